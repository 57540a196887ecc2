//! The human view of a decoded message, in the spirit of `tshark -V`.
//!
//! Every header field and every payload field is printed on its own line
//! with its byte offset and length in the message; set flags are listed one
//! per line with their MS-NLMP letter and value; AV pairs, the NTLMv2 blob
//! and the LMv2 response are broken down; defects are marked inline with
//! `[!]` and listed again at the end. The text is plain ASCII layout (string
//! values are printed as decoded) and is free to improve; `--json` is the
//! stable interface.

use std::fmt::Write as _;

use ntlm_wire::{
    AuthenticateMessage, AvPairs, AvValue, ChallengeMessage, Charset, FileTime, MIC_LEN,
    MIC_OFFSET, Message, NegotiateFlags, NegotiateMessage, ResponseKind, Version,
};

use crate::input::{InputForm, Source};
use crate::inspect::{self, BufferFields, KindText, WireText};
use crate::sink;
use ntlm_gss::spnego::describe_oid;
use ntlm_wire::layout;

/// Width of the offset column.
const OFF_W: usize = 6;
/// Width of the length column.
const LEN_W: usize = 5;

/// Renders one message; `raw` are the bytes it was parsed from.
pub fn message(raw: &[u8], msg: &Message<'_>) -> String {
    let mut r = Renderer {
        out: String::new(),
        raw,
    };
    let (header_len, kind) = match msg {
        Message::Negotiate(m) => (m.header_len(), "NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1)"),
        Message::Challenge(m) => (m.header_len(), "CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2)"),
        Message::Authenticate(m) => (m.header_len(), "AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3)"),
    };
    r.text(&format!(
        "{kind}: {} bytes, {header_len}-byte header",
        raw.len()
    ));
    r.text(&format!("{:>OFF_W$} {:>LEN_W$}  Field", "Offset", "Len"));
    r.field(layout::SIGNATURE, 8, 0, "Signature: \"NTLMSSP\\0\"");
    r.field(
        layout::MESSAGE_TYPE,
        4,
        0,
        &format!(
            "MessageType: {} ({})",
            msg.message_type() as u32,
            msg.message_type().name()
        ),
    );
    match msg {
        Message::Negotiate(m) => r.negotiate(m),
        Message::Challenge(m) => r.challenge(m),
        Message::Authenticate(m) => r.authenticate(m),
    }
    let defects = inspect::defects(raw, msg);
    if defects.is_empty() {
        r.text("Defects: none");
    } else {
        r.text(&format!("Defects ({}):", defects.len()));
        for d in defects {
            r.text(&format!("  [!] {}", sink::terminal(&d.to_string())));
        }
    }
    r.out
}

/// The `Input:` line (and a `SPNEGO:` line) describing how a message was given.
pub fn input(source: &Source, form: &InputForm) -> String {
    let mut s = format!("Input: {}\n", sink::terminal(&format!("{source}, {form}")));
    if let Some(sp) = &form.spnego {
        let mut parts = vec![sp.kind.name().to_owned()];
        if !sp.mech_types.is_empty() {
            let mechs: Vec<String> = sp.mech_types.iter().map(|o| describe_oid(o)).collect();
            parts.push(format!("mechTypes {}", mechs.join(", ")));
        }
        if let Some(n) = sp.neg_state {
            parts.push(format!("negState {n}"));
        }
        if let Some(m) = &sp.supported_mech {
            parts.push(format!("supportedMech {}", describe_oid(m)));
        }
        if sp.mech_list_mic {
            parts.push("mechListMIC present".to_owned());
        }
        let _ = writeln!(s, "SPNEGO: {}", sink::terminal(&parts.join("; ")));
    }
    s
}

/// A payload field to print, in offset order.
struct Payload<'m> {
    name: &'static str,
    offset: usize,
    bytes: &'m [u8],
    kind: PayloadKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PayloadKind {
    Text(Charset),
    TargetInfo,
    LmResponse,
    NtResponse,
    Bytes,
}

struct Renderer<'r> {
    out: String,
    raw: &'r [u8],
}

impl Renderer<'_> {
    fn text(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// A line for a field at `offset` of `len` bytes, indented `depth` levels.
    fn field(&mut self, offset: usize, len: usize, depth: usize, s: &str) {
        let indent = "  ".repeat(depth);
        let _ = writeln!(self.out, "{offset:>OFF_W$} {len:>LEN_W$}  {indent}{s}");
    }

    /// A continuation line without offset and length.
    fn note(&mut self, depth: usize, s: &str) {
        let indent = "  ".repeat(depth);
        let _ = writeln!(self.out, "{:>OFF_W$} {:>LEN_W$}  {indent}{s}", "", "");
    }

    fn flags(&mut self, at: usize, flags: NegotiateFlags) {
        let count = flags.bits().count_ones();
        self.field(
            at,
            4,
            0,
            &format!(
                "NegotiateFlags: {} ({count} set)",
                inspect::flags_hex(flags.bits())
            ),
        );
        for (name, letter, value) in inspect::set_flags(flags) {
            let mark = if NegotiateFlags::RESERVED.bits() & value != 0 {
                "  [!] reserved"
            } else {
                ""
            };
            self.note(
                2,
                &format!("{letter:>3}  {}  {name}{mark}", inspect::flags_hex(value)),
            );
        }
    }

    fn buffer(&mut self, name: &'static str, at: usize, note: &str) -> Option<BufferFields> {
        let b = BufferFields::read(self.raw, at)?;
        self.field(
            at,
            8,
            0,
            &format!(
                "{name}: Len {}, MaxLen {}, BufferOffset {}{note}",
                b.len, b.max_len, b.offset
            ),
        );
        Some(b)
    }

    fn version(&mut self, at: usize, version: Option<Version>, flags: NegotiateFlags) {
        let Some(v) = version else {
            return;
        };
        let ignored = if flags.contains(NegotiateFlags::NEGOTIATE_VERSION) {
            ""
        } else {
            "  (NEGOTIATE_VERSION not set: ignored)"
        };
        self.field(
            at,
            Version::LEN,
            0,
            &format!(
                "Version: {}.{} build {}, NTLM revision {} [{}]{ignored}",
                v.major,
                v.minor,
                v.build,
                v.revision,
                inspect::hex(&v.to_bytes())
            ),
        );
    }

    fn negotiate(&mut self, m: &NegotiateMessage<'_>) {
        self.flags(layout::negotiate::FLAGS, m.flags);
        let mut payload = Vec::new();
        for (name, fields, at, flag, value) in [
            (
                "DomainName",
                "DomainNameFields",
                layout::negotiate::DOMAIN_NAME,
                NegotiateFlags::NEGOTIATE_OEM_DOMAIN_SUPPLIED,
                m.domain.as_deref(),
            ),
            (
                "WorkstationName",
                "WorkstationFields",
                layout::negotiate::WORKSTATION,
                NegotiateFlags::NEGOTIATE_OEM_WORKSTATION_SUPPLIED,
                m.workstation.as_deref(),
            ),
        ] {
            let note = if m.flags.contains(flag) {
                String::new()
            } else {
                format!("  ({} not set)", flag.names().next().unwrap_or("flag"))
            };
            let b = self.buffer(fields, at, &note);
            push_payload(
                &mut payload,
                name,
                b,
                value,
                PayloadKind::Text(Charset::Oem),
            );
        }
        self.version(layout::negotiate::VERSION, m.version, m.flags);
        self.payload(payload);
    }

    fn challenge(&mut self, m: &ChallengeMessage<'_>) {
        let cs = inspect::charset(m.flags);
        let mut payload = Vec::new();
        let b = self.buffer("TargetNameFields", layout::challenge::TARGET_NAME, "");
        push_payload(
            &mut payload,
            "TargetName",
            b,
            m.target_name.as_deref(),
            PayloadKind::Text(cs),
        );
        self.flags(layout::challenge::FLAGS, m.flags);
        self.field(
            layout::challenge::SERVER_CHALLENGE,
            8,
            0,
            &format!("ServerChallenge: {}", inspect::hex(&m.server_challenge)),
        );
        if let Some(res) = m.reserved {
            let mark = if res == [0; 8] { "" } else { "  [!] not zero" };
            self.field(
                layout::challenge::RESERVED,
                8,
                0,
                &format!("Reserved: {}{mark}", inspect::hex(&res)),
            );
            let b = self.buffer("TargetInfoFields", layout::challenge::TARGET_INFO, "");
            push_payload(
                &mut payload,
                "TargetInfo",
                b,
                m.target_info.as_ref().map(AvPairs::as_bytes),
                PayloadKind::TargetInfo,
            );
        } else {
            self.note(
                0,
                "(32-byte header: no Reserved, TargetInfoFields or Version)",
            );
        }
        self.version(layout::challenge::VERSION, m.version, m.flags);
        self.payload(payload);
    }

    fn authenticate(&mut self, m: &AuthenticateMessage<'_>) {
        let cs = inspect::charset(m.flags);
        let mut payload = Vec::new();
        for (name, fields, at, value, kind) in [
            (
                "LmChallengeResponse",
                "LmChallengeResponseFields",
                layout::authenticate::LM_CHALLENGE_RESPONSE,
                m.lm_response.as_deref(),
                PayloadKind::LmResponse,
            ),
            (
                "NtChallengeResponse",
                "NtChallengeResponseFields",
                layout::authenticate::NT_CHALLENGE_RESPONSE,
                m.nt_response.as_deref(),
                PayloadKind::NtResponse,
            ),
            (
                "DomainName",
                "DomainNameFields",
                layout::authenticate::DOMAIN_NAME,
                m.domain.as_deref(),
                PayloadKind::Text(cs),
            ),
            (
                "UserName",
                "UserNameFields",
                layout::authenticate::USER_NAME,
                m.user.as_deref(),
                PayloadKind::Text(cs),
            ),
            (
                "Workstation",
                "WorkstationFields",
                layout::authenticate::WORKSTATION,
                m.workstation.as_deref(),
                PayloadKind::Text(cs),
            ),
            (
                "EncryptedRandomSessionKey",
                "EncryptedRandomSessionKeyFields",
                layout::authenticate::ENCRYPTED_RANDOM_SESSION_KEY,
                m.encrypted_random_session_key.as_deref(),
                PayloadKind::Bytes,
            ),
        ] {
            let b = self.buffer(fields, at, "");
            push_payload(&mut payload, name, b, value, kind);
        }
        self.flags(layout::authenticate::FLAGS, m.flags);
        self.version(layout::authenticate::VERSION, m.version, m.flags);
        if let Some(mic) = m.mic {
            let mark = if mic == [0; MIC_LEN] {
                "  [!] all zero"
            } else {
                ""
            };
            self.field(
                MIC_OFFSET,
                MIC_LEN,
                0,
                &format!("MIC: {}{mark}", inspect::hex(&mic)),
            );
        } else {
            self.note(0, "MIC: (absent: header has no MIC field)");
        }
        let kind = m.response_kind();
        self.payload_with(payload, Some(m));
        self.note(0, &format!("Response kind: {kind}"));
    }

    fn payload(&mut self, payload: Vec<Payload<'_>>) {
        self.payload_with(payload, None);
    }

    fn payload_with(
        &mut self,
        mut payload: Vec<Payload<'_>>,
        auth: Option<&AuthenticateMessage<'_>>,
    ) {
        payload.sort_by_key(|p| p.offset);
        if payload.is_empty() {
            self.note(0, "(no payload)");
        }
        for p in payload {
            match p.kind {
                PayloadKind::Text(cs) => {
                    let t = inspect::wire_text(p.bytes, cs);
                    let line = text_line(p.name, &t, p.bytes);
                    self.field(p.offset, p.bytes.len(), 0, &line);
                }
                PayloadKind::TargetInfo => {
                    let list = AvPairs::new(p.bytes);
                    self.field(
                        p.offset,
                        p.bytes.len(),
                        0,
                        &format!("{}: {} AV pairs", p.name, list.iter().count()),
                    );
                    self.av_pairs(&list, p.offset, 1);
                }
                PayloadKind::LmResponse => self.lm_response(&p, auth),
                PayloadKind::NtResponse => self.nt_response(&p, auth),
                PayloadKind::Bytes => {
                    self.field(
                        p.offset,
                        p.bytes.len(),
                        0,
                        &format!("{}: {}", p.name, hex_or_empty(p.bytes)),
                    );
                }
            }
        }
    }

    fn lm_response(&mut self, p: &Payload<'_>, auth: Option<&AuthenticateMessage<'_>>) {
        let kind = auth.map(AuthenticateMessage::response_kind);
        self.field(
            p.offset,
            p.bytes.len(),
            0,
            &format!("{}: {}", p.name, hex_or_empty(p.bytes)),
        );
        match kind {
            Some(ResponseKind::NtlmV2) => {
                if let Some(l) = auth.and_then(inspect::lmv2) {
                    let zero = if p.bytes.iter().all(|&b| b == 0) {
                        "  (all zero: sent when the CHALLENGE has MsvAvTimestamp, MS-NLMP 3.1.5.1.2)"
                    } else {
                        ""
                    };
                    self.field(
                        p.offset,
                        16,
                        1,
                        &format!("LMv2 Response: {}{zero}", inspect::hex(&l.response)),
                    );
                    self.field(
                        p.offset.saturating_add(16),
                        8,
                        1,
                        &format!("ChallengeFromClient: {}", inspect::hex(&l.client_challenge)),
                    );
                }
            }
            Some(ResponseKind::Ntlm2Session) => {
                if let Some(c) = auth.and_then(inspect::ntlm2_session_client_challenge) {
                    self.field(
                        p.offset,
                        8,
                        1,
                        &format!(
                            "ClientChallenge (NTLM2 session response): {}",
                            inspect::hex(&c)
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn nt_response(&mut self, p: &Payload<'_>, auth: Option<&AuthenticateMessage<'_>>) {
        let v2 = auth.and_then(|m| inspect::ntlmv2(self.raw, m));
        let Some(view) = v2 else {
            self.field(
                p.offset,
                p.bytes.len(),
                0,
                &format!("{}: {}", p.name, hex_or_empty(p.bytes)),
            );
            return;
        };
        let r = match &view.response {
            Ok(r) => r,
            Err(e) => {
                self.field(
                    p.offset,
                    p.bytes.len(),
                    0,
                    &format!("{}: {}", p.name, hex_or_empty(p.bytes)),
                );
                self.note(1, &format!("[!] not a valid NTLMv2 response: {e}"));
                return;
            }
        };
        self.field(
            p.offset,
            p.bytes.len(),
            0,
            &format!("{}: NTLMv2_RESPONSE (MS-NLMP 2.2.2.8)", p.name),
        );
        use layout::ntlmv2 as o;
        let at = |rel: usize| p.offset.saturating_add(rel);
        let c = &r.client_challenge;
        let must = |v: u64, want: u64| {
            if v == want {
                String::new()
            } else {
                format!("  [!] must be {want}")
            }
        };
        self.field(
            at(o::NT_PROOF_STR),
            16,
            1,
            &format!("NTProofStr: {}", inspect::hex(&r.nt_proof_str)),
        );
        self.field(
            at(o::RESP_TYPE),
            r.blob.len(),
            1,
            "NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.7)",
        );
        self.field(
            at(o::RESP_TYPE),
            1,
            2,
            &format!("RespType: {}{}", c.resp_type, must(c.resp_type.into(), 1)),
        );
        self.field(
            at(o::HI_RESP_TYPE),
            1,
            2,
            &format!(
                "HiRespType: {}{}",
                c.hi_resp_type,
                must(c.hi_resp_type.into(), 1)
            ),
        );
        self.field(
            at(o::RESERVED1),
            2,
            2,
            &format!("Reserved1: {}{}", c.reserved1, must(c.reserved1.into(), 0)),
        );
        self.field(
            at(o::RESERVED2),
            4,
            2,
            &format!("Reserved2: {}{}", c.reserved2, must(c.reserved2.into(), 0)),
        );
        self.field(
            at(o::TIMESTAMP),
            8,
            2,
            &format!("TimeStamp: {}", time_text(c.timestamp)),
        );
        self.field(
            at(o::CLIENT_CHALLENGE),
            8,
            2,
            &format!(
                "ChallengeFromClient: {}",
                inspect::hex(&c.challenge_from_client)
            ),
        );
        self.field(
            at(o::RESERVED3),
            4,
            2,
            &format!("Reserved3: {}{}", c.reserved3, must(c.reserved3.into(), 0)),
        );
        let list = &c.av_pairs;
        self.field(
            at(o::AV_PAIRS),
            list.len(),
            2,
            &format!("AvPairs: {} AV pairs", list.iter().count()),
        );
        self.av_pairs(list, at(o::AV_PAIRS), 3);
    }

    fn av_pairs(&mut self, list: &AvPairs<'_>, base: usize, depth: usize) {
        for v in inspect::av_views(list, base) {
            let id = v.pair.id.0;
            let name = v.name.map_or_else(
                || format!("AvId 0x{id:04x} (unknown)"),
                |n| format!("{n} ({id})"),
            );
            let dup = if v.duplicate { "  [!] duplicate" } else { "" };
            let len = v.pair.value.len().saturating_add(4);
            let value = match (&v.value, &v.text) {
                (Err(e), _) => format!(
                    "{}  [!] invalid: {}",
                    inspect::hex(v.pair.value),
                    e.kind_text()
                ),
                (Ok(AvValue::Text(b)), Some(t)) => quoted(t, b),
                (Ok(AvValue::Flags(f)), _) => {
                    let names = inspect::msv_av_flag_names(*f);
                    if names.is_empty() {
                        inspect::flags_hex(f.bits())
                    } else {
                        format!("{} ({})", inspect::flags_hex(f.bits()), names.join(", "))
                    }
                }
                (Ok(AvValue::Timestamp(t)), _) => time_text(*t),
                (Ok(AvValue::ChannelBindings(h)), _) => {
                    let none = if *h == [0; 16] {
                        "  (all zero: no channel bindings)"
                    } else {
                        ""
                    };
                    format!("{}{none}", inspect::hex(h))
                }
                (Ok(AvValue::SingleHost(s)), _) => format!(
                    "Size {}, Z4 {}, CustomData {}, MachineID {}{}",
                    s.size,
                    s.z4,
                    inspect::hex(&s.custom_data),
                    inspect::hex(&s.machine_id),
                    if s.rest.is_empty() {
                        String::new()
                    } else {
                        format!(", then {}", inspect::hex(s.rest))
                    }
                ),
                (Ok(_), _) => inspect::hex(v.pair.value),
            };
            self.field(v.offset, len, depth, &format!("{name}: {value}{dup}"));
        }
        let d = list.defects();
        if let Some(eol) = inspect::eol_offset(list) {
            let eol_len = list
                .len()
                .saturating_sub(eol)
                .saturating_sub(list.trailing().len());
            let mark = if d.eol_with_value {
                "  [!] AvLen not 0"
            } else {
                ""
            };
            self.field(
                base.saturating_add(eol),
                eol_len,
                depth,
                &format!("MsvAvEOL (0){mark}"),
            );
        }
        if let Some(at) = d.truncated_at {
            self.field(
                base.saturating_add(at),
                list.len().saturating_sub(at),
                depth,
                &format!(
                    "[!] truncated AV pair: {}",
                    inspect::hex(list.as_bytes().get(at..).unwrap_or_default())
                ),
            );
        }
        if d.missing_eol {
            self.note(depth, "[!] missing MsvAvEOL: the list is not terminated");
        }
        let trailing = list.trailing();
        if !trailing.is_empty() {
            self.field(
                base.saturating_add(list.len().saturating_sub(trailing.len())),
                trailing.len(),
                depth,
                &format!("(after MsvAvEOL): {}", inspect::hex(trailing)),
            );
        }
    }
}

fn push_payload<'m>(
    payload: &mut Vec<Payload<'m>>,
    name: &'static str,
    fields: Option<BufferFields>,
    value: Option<&'m [u8]>,
    kind: PayloadKind,
) {
    if let (Some(b), Some(bytes)) = (fields, value) {
        payload.push(Payload {
            name,
            offset: b.start(),
            bytes,
            kind,
        });
    }
}

/// Hex, or `(empty)` for a field placed with `Len` 0.
fn hex_or_empty(b: &[u8]) -> String {
    if b.is_empty() {
        "(empty)".to_owned()
    } else {
        inspect::hex(b)
    }
}

/// `Name: "text"`, or the lossy text, the hex and the reason when undecodable.
fn text_line(name: &str, t: &WireText, raw: &[u8]) -> String {
    format!("{name}: {}", quoted(t, raw))
}

fn quoted(t: &WireText, raw: &[u8]) -> String {
    match (&t.text, &t.error) {
        (Some(s), _) => sink::quoted(s),
        (None, Some(e)) => format!(
            "{}  [!] undecodable ({}): {}",
            sink::quoted(&t.lossy),
            sink::terminal(&e.to_string()),
            inspect::hex(raw)
        ),
        (None, None) => inspect::hex(raw),
    }
}

/// A FILETIME as a date and its raw value.
fn time_text(ft: FileTime) -> String {
    let ticks = ft.ticks();
    match ft.to_rfc3339() {
        Some(t) => format!("{t} (FILETIME {ticks})"),
        None => format!("FILETIME {ticks}  [!] past year 9999"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_AUTH: &[u8] =
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-authenticate.bin");
    const SPEC_CHALLENGE: &[u8] =
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");

    #[test]
    fn challenge_lists_every_field_with_offsets() {
        let m = Message::parse(SPEC_CHALLENGE).unwrap();
        let s = message(SPEC_CHALLENGE, &m);
        for needle in [
            "    12     8  TargetNameFields: Len 12, MaxLen 12, BufferOffset 56",
            "    20     4  NegotiateFlags: 0xe28a8233 (13 set)",
            "  W  0x80000000  NEGOTIATE_56",
            "  A  0x00000001  NEGOTIATE_UNICODE",
            "    24     8  ServerChallenge: 0123456789abcdef",
            "    48     8  Version: 6.0 build 6000, NTLM revision 15",
            "    56    12  TargetName: \"Server\"",
            "    68    36  TargetInfo: 2 AV pairs",
            "    68    16    MsvAvNbDomainName (2): \"Domain\"",
            "   100     4    MsvAvEOL (0)",
            "Defects: none",
        ] {
            assert!(s.contains(needle), "missing {needle:?} in\n{s}");
        }
    }

    #[test]
    fn authenticate_breaks_down_the_ntlmv2_blob() {
        let m = Message::parse(SPEC_AUTH).unwrap();
        let s = message(SPEC_AUTH, &m);
        for needle in [
            "   132    84  NtChallengeResponse: NTLMv2_RESPONSE",
            "   132    16    NTProofStr: 68cd0ab851e51c96aabc927bebef6a1c",
            "   156     8      TimeStamp: 1601-01-01T00:00:00Z (FILETIME 0)",
            "   164     8      ChallengeFromClient: aaaaaaaaaaaaaaaa",
            "   208     4        MsvAvEOL (0)",
            "   212     4        (after MsvAvEOL): 00000000",
            "   108    24  LmChallengeResponse: 86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
            "    72    12  DomainName: \"Domain\"",
            "              MIC: (absent: header has no MIC field)",
            "Response kind: NTLMv2",
        ] {
            assert!(s.contains(needle), "missing {needle:?} in\n{s}");
        }
    }

    #[test]
    fn defects_are_flagged() {
        let mut b = SPEC_CHALLENGE.to_vec();
        // Drop MsvAvEOL: shorten TargetInfo from 36 to 32 bytes.
        b[40] = 32;
        b[42] = 32;
        let m = Message::parse(&b).unwrap();
        let s = message(&b, &m);
        assert!(s.contains("[!] missing MsvAvEOL"), "{s}");
        assert!(s.contains("Defects (2):"), "{s}");
        assert!(
            s.contains("[!] Payload at offset 100: 4 bytes after the last field (ignored)"),
            "{s}"
        );
    }
}
