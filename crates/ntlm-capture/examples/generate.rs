//! Writes a large synthetic capture for throughput measurements:
//!
//! ```text
//! cargo run --release -p ntlm-capture --example generate -- exchanges 100000 ntlm.pcap
//! cargo run --release -p ntlm-capture --example generate -- bulk 2048 bulk.pcap     # MiB, HTTP
//! cargo run --release -p ntlm-capture --example generate -- scan 2048 scan.pcap     # MiB, other TCP
//! cargo run --release -p ntlm-capture --example generate -- seeds 0 fuzz/corpus/capture
//! ```
//!
//! `seeds` writes small captures of every carrier, format and byte order
//! (the fuzz seed corpus) into a directory.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::fs::File;
use std::io::{BufWriter, Write};

use ntlm_capture::synth::{self, Format, Messages};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, n, path] = args.as_slice() else {
        return Err("usage: generate exchanges|bulk|scan N FILE".into());
    };
    let n: u64 = n.parse()?;
    if kind == "seeds" {
        return seeds(std::path::Path::new(path));
    }
    let out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let format = Format::Pcap {
        big_endian: false,
        nanos: false,
    };
    let mut out = match kind.as_str() {
        "exchanges" => synth::write_exchanges(out, format, &Messages::sample(), u32::try_from(n)?)?,
        "bulk" => synth::write_bulk(out, format, n << 20, true)?,
        "scan" => synth::write_bulk(out, format, n << 20, false)?,
        other => return Err(format!("unknown kind {other}").into()),
    };
    out.flush()?;
    println!("wrote {path}");
    Ok(())
}

/// One connection per carrier, in every file format.
fn seeds(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use synth::Conversation;
    std::fs::create_dir_all(dir)?;
    let m = Messages::sample();
    let mut frames = Vec::new();
    let mut add = |c: Conversation| {
        let base = u64::try_from(frames.len()).unwrap_or(0);
        frames.extend(c.frames.into_iter().map(|(mut p, f)| {
            p.packet += base;
            (p, f)
        }));
    };
    let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:80");
    c.handshake();
    c.http_exchange(&m, 200);
    c.close();
    add(c);
    let mut c = Conversation::new("10.0.0.1:50001", "10.0.0.2:445");
    c.mss = 100;
    c.handshake();
    c.smb2_exchange(&m, 0xc000_006d);
    c.close();
    add(c);
    let mut c = Conversation::new("[fd00::1]:50002", "[fd00::2]:445");
    c.handshake();
    c.client_send(&synth::smb1_session_setup(false, 0, &m.negotiate));
    c.server_send(&synth::smb1_session_setup(true, 0xc000_0016, &m.challenge));
    c.client_send(&synth::smb1_session_setup(false, 0, &m.authenticate));
    c.server_send(&synth::smb1_session_setup(true, 0, &[]));
    c.close();
    add(c);
    let mut c = Conversation::new("10.0.0.1:50003", "10.0.0.2:135");
    c.handshake();
    c.client_send(&synth::dcerpc_pdu(11, true, 10, &m.negotiate));
    c.server_send(&synth::dcerpc_pdu(12, true, 10, &m.challenge));
    c.client_send(&synth::dcerpc_pdu(
        16,
        true,
        9,
        &ntlm_gss::spnego::wrap_resp(&m.authenticate),
    ));
    c.server_send(&synth::dcerpc_fault(5));
    c.close();
    add(c);
    let mut c = Conversation::new("10.0.0.1:50004", "10.0.0.2:389");
    c.handshake();
    c.client_send(&synth::ldap_sasl_bind(
        1,
        "GSS-SPNEGO",
        &ntlm_gss::spnego::wrap_init(&m.negotiate),
    ));
    c.server_send(&synth::ldap_bind_response(
        1,
        14,
        b"",
        Some(&ntlm_gss::spnego::wrap_resp(&m.challenge)),
    ));
    c.client_send(&synth::ldap_sicily_bind(2, 0x8b, &m.authenticate));
    c.server_send(&synth::ldap_bind_response(2, 49, b"", None));
    c.close();
    add(c);
    let mut c = Conversation::new("10.0.0.1:50005", "10.0.0.2:7000");
    c.handshake();
    c.client_send(&[&b"custom"[..], &m.negotiate, b"x", &m.authenticate].concat());
    c.close();
    add(c);
    for (name, format) in [
        (
            "all-le.pcap",
            Format::Pcap {
                big_endian: false,
                nanos: false,
            },
        ),
        (
            "all-be-nanos.pcap",
            Format::Pcap {
                big_endian: true,
                nanos: true,
            },
        ),
        ("all-le.pcapng", Format::PcapNg { big_endian: false }),
        ("all-be.pcapng", Format::PcapNg { big_endian: true }),
    ] {
        std::fs::write(dir.join(name), synth::capture(format, &frames))?;
    }
    let http = synth::http_exchange_pcap(&m, 401);
    let cut = http
        .get(..http.len().saturating_sub(20))
        .unwrap_or_default();
    std::fs::write(dir.join("http-truncated.pcap"), cut)?;
    println!("wrote seeds to {}", dir.display());
    Ok(())
}
