//! Every form an administrator has for NtlmMinClientSec / NtlmMinServerSec
//! and LmCompatibilityLevel, valid and malformed.

use ntlm_policy::{
    InputForm, LineForm, LmCompatibilityLevel, MinSessionSecurity, ParseError, PolicyValue,
};

#[cfg(test)]
fn ok(input: &str) -> (u32, Option<PolicyValue>, InputForm) {
    let p =
        MinSessionSecurity::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
    (p.mask.bits(), p.value, p.form)
}

#[cfg(test)]
fn err(input: &str) -> ParseError {
    let e = MinSessionSecurity::parse(input).unwrap_err();
    let text = e.to_string();
    // The message quotes the whole input and says what was expected.
    assert!(
        text.contains(&format!("{input:?}")),
        "error for {input:?} does not quote it: {text}"
    );
    assert!(text.contains("; expected "), "{text}");
    assert_eq!(e.input(), input);
    e
}

#[test]
fn numbers() {
    assert_eq!(ok("0x20080000"), (0x2008_0000, None, InputForm::Hex));
    assert_eq!(ok("0X20080030"), (0x2008_0030, None, InputForm::Hex));
    assert_eq!(ok("  0x10  "), (0x10, None, InputForm::Hex));
    assert_eq!(ok("537395200"), (0x2008_0000, None, InputForm::Decimal));
    assert_eq!(ok("0"), (0, None, InputForm::Decimal));
    assert_eq!(ok("dword:20080000"), (0x2008_0000, None, InputForm::Dword));
    assert_eq!(ok("DWORD:00000030"), (0x30, None, InputForm::Dword));
    // PowerShell prints REG_DWORD as Int32.
    assert_eq!(ok("-1610088400"), (0xA008_0030, None, InputForm::Decimal));
}

#[test]
fn malformed_numbers() {
    assert!(err("0x1ffffffff").problem().contains("32 bits"));
    assert!(err("4294967296").problem().contains("32 bits"));
    assert!(err("0xzz").problem().contains("hexadecimal"));
    assert!(err("dword:").problem().contains("hexadecimal"));
    // Digits with hex letters but no prefix are ambiguous; the hint says how to write them.
    assert!(err("2008000a").problem().contains("write 0x2008000a"));
    assert!(err("-99999999999").problem().contains("below"));
    assert!(err("").problem().contains("empty"));
    assert!(err("   ").problem().contains("empty"));
}

#[test]
fn reg_file_lines() {
    assert_eq!(
        ok(r#""NtlmMinClientSec"=dword:20080030"#),
        (
            0x2008_0030,
            Some(PolicyValue::NtlmMinClientSec),
            InputForm::Line(LineForm::RegFile)
        )
    );
    assert_eq!(
        ok(r#"  "ntlmminserversec" = dword:20000000"#),
        (
            0x2000_0000,
            Some(PolicyValue::NtlmMinServerSec),
            InputForm::Line(LineForm::RegFile)
        )
    );
    assert!(
        err(r#""NtlmMinClientSec"=hex:30,00,08,20"#)
            .problem()
            .contains("REG_DWORD")
    );
    assert!(
        err(r#""NtlmMinClientSec=dword:1"#)
            .problem()
            .contains("closing quote")
    );
    assert!(
        err(r#""LmCompatibilityLevel"=dword:00000005"#)
            .problem()
            .contains("\"LmCompatibilityLevel\"")
    );
    assert!(
        err(r#""NtlmMinClientSec" dword:1"#)
            .problem()
            .contains("no '='")
    );
}

#[test]
fn reg_query_lines() {
    assert_eq!(
        ok("    NtlmMinClientSec    REG_DWORD    0x20080000"),
        (
            0x2008_0000,
            Some(PolicyValue::NtlmMinClientSec),
            InputForm::Line(LineForm::RegQuery)
        )
    );
    assert_eq!(
        ok("NtlmMinServerSec\tREG_DWORD\t0x20000000"),
        (
            0x2000_0000,
            Some(PolicyValue::NtlmMinServerSec),
            InputForm::Line(LineForm::RegQuery)
        )
    );
    assert_eq!(
        ok("REG_DWORD 0x80000"),
        (0x8_0000, None, InputForm::Line(LineForm::RegQuery))
    );
    assert!(
        err("    NtlmMinClientSec    REG_SZ    0x20080000")
            .problem()
            .contains("REG_SZ")
    );
    assert!(
        err("    NtlmMinClientSec    REG_DWORD")
            .problem()
            .contains("exactly one value")
    );
    assert!(
        err("    NtlmMinClientSec    REG_DWORD    0x2 0x3")
            .problem()
            .contains("exactly one value")
    );
}

#[test]
fn secedit_lines() {
    assert_eq!(
        ok(r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=4,537395200"),
        (
            0x2008_0000,
            Some(PolicyValue::NtlmMinClientSec),
            InputForm::Line(LineForm::Secedit)
        )
    );
    assert_eq!(
        ok(r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinServerSec = 4, 536870912"),
        (
            0x2000_0000,
            Some(PolicyValue::NtlmMinServerSec),
            InputForm::Line(LineForm::Secedit)
        )
    );
    assert!(
        err(r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=1,537395200")
            .problem()
            .contains("not 4")
    );
    assert!(
        err(r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=4,")
            .problem()
            .contains("not a number")
    );
    assert!(
        err(r"MACHINE\System\CurrentControlSet\Control\Lsa\LmCompatibilityLevel=4,5")
            .problem()
            .contains("LmCompatibilityLevel")
    );
    assert!(err("=4,1").problem().contains("nothing before"));
    // A bare assignment.
    assert_eq!(
        ok("NtlmMinClientSec=0x20000000"),
        (
            0x2000_0000,
            Some(PolicyValue::NtlmMinClientSec),
            InputForm::Line(LineForm::Assignment)
        )
    );
}

#[test]
fn reg_add_and_powershell_lines() {
    assert_eq!(
        ok(
            r"reg add HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0 /v NtlmMinServerSec /t REG_DWORD /d 537395200 /f"
        ),
        (
            0x2008_0000,
            Some(PolicyValue::NtlmMinServerSec),
            InputForm::Line(LineForm::RegAdd)
        )
    );
    assert!(
        err(r"reg add HKLM\X /v NtlmMinServerSec /t REG_SZ /d 1")
            .problem()
            .contains("REG_SZ")
    );
    assert!(
        err(r"reg add HKLM\X /v NtlmMinServerSec /d")
            .problem()
            .contains("/d")
    );
    assert_eq!(
        ok("NtlmMinClientSec : 537395200"),
        (
            0x2008_0000,
            Some(PolicyValue::NtlmMinClientSec),
            InputForm::Line(LineForm::PowerShell)
        )
    );
    assert_eq!(
        ok("NtlmMinClientSec : -2147483648").0,
        0x8000_0000,
        "PowerShell shows 0x80000000 as a negative Int32"
    );
}

#[test]
fn tokens() {
    for (token, bits) in [
        ("none", 0),
        ("require_message_integrity", 0x10),
        ("require_message_confidentiality", 0x20),
        ("require_NTLMv2_session_security", 0x8_0000),
        ("require_ntlmv2_session_security", 0x8_0000),
        ("require_128bit_encryption", 0x2000_0000),
        ("require_56bit_encryption", 0x8000_0000),
        ("all_above", 0x2008_0030),
        ("ALL_ABOVE", 0x2008_0030),
    ] {
        assert_eq!(ok(token), (bits, None, InputForm::Name), "{token}");
    }
}

#[test]
fn group_policy_option_names() {
    for (name, bits) in [
        ("Require NTLMv2 session security", 0x8_0000),
        ("Require 128-bit encryption", 0x2000_0000),
        ("Require message integrity", 0x10),
        ("Require message confidentiality", 0x20),
        ("require 128-bit  encryption", 0x2000_0000),
    ] {
        assert_eq!(ok(name), (bits, None, InputForm::Name), "{name}");
    }
}

#[test]
fn flag_names() {
    assert_eq!(ok("NEGOTIATE_128").0, 0x2000_0000);
    assert_eq!(ok("NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY").0, 0x8_0000);
    assert_eq!(ok("negotiate_sign | negotiate_seal").0, 0x30);
    let e = err("NEGOTIATE_KEY_EXCH");
    assert!(
        e.problem().contains("not a minimum-security bit"),
        "{}",
        e.problem()
    );
}

#[test]
fn combinations() {
    assert_eq!(
        ok("Require NTLMv2 session security, Require 128-bit encryption"),
        (0x2008_0000, None, InputForm::Combination)
    );
    assert_eq!(
        ok("Require NTLMv2 session security + Require 128-bit encryption").0,
        0x2008_0000
    );
    assert_eq!(
        ok("0x20000000|0x80000"),
        (0x2008_0000, None, InputForm::Combination)
    );
    assert_eq!(
        ok("require_128bit_encryption,require_NTLMv2_session_security").0,
        0x2008_0000
    );
    assert_eq!(ok("none | 0x10").0, 0x10);
    assert_eq!(
        ok("dword:20000000 + require_message_confidentiality").0,
        0x2000_0020
    );
    assert_eq!(ok("all_above|0x80000000").0, 0xA008_0030);
}

#[test]
fn malformed_names_and_combinations() {
    assert!(
        err("require_everything")
            .problem()
            .contains("neither a number nor a known name")
    );
    assert!(
        err("Require 256-bit encryption")
            .problem()
            .contains("known name")
    );
    assert!(err("0x10||0x20").problem().contains("empty term"));
    assert!(err("0x10,").problem().contains("empty term"));
    assert!(err("+").problem().contains("empty term"));
    let e = err("0x20000000|bogus");
    assert!(e.problem().contains("\"bogus\""), "{}", e.problem());
    assert!(e.expected().contains("require_128bit_encryption"));
    assert!(e.expected().contains("NTLMMinClientSec=4,537395200"));
}

#[test]
fn unknown_bits_are_kept() {
    let m: MinSessionSecurity = "0x20080001".parse().unwrap();
    assert_eq!(m.bits(), 0x2008_0001);
    assert_eq!(m.unknown_bits(), 0x1);
    assert_eq!(m.required_flags().bits(), 0x2008_0000);
}

#[test]
fn from_str_keeps_the_mask_only() {
    let m: MinSessionSecurity = r#""NtlmMinServerSec"=dword:20080000"#.parse().unwrap();
    assert_eq!(m, MinSessionSecurity::BASELINE);
    assert_eq!(m.to_string(), "0x20080000");
    assert!("nope".parse::<MinSessionSecurity>().is_err());
}

#[test]
fn lm_levels() {
    use LmCompatibilityLevel as L;
    for (input, level) in [
        ("0", L::L0),
        ("5", L::L5),
        (" 3 ", L::L3),
        ("0x4", L::L4),
        ("level 2", L::L2),
        ("Level 1", L::L1),
        ("Send LM & NTLM responses", L::L0),
        ("Send LM and NTLM responses", L::L0),
        (
            "Send LM & NTLM - use NTLMv2 session security if negotiated",
            L::L1,
        ),
        (
            "Send LM & NTLM – use NTLMv2 session security if negotiated",
            L::L1,
        ),
        ("Send NTLM response only", L::L2),
        ("send ntlmv2 response only", L::L3),
        ("Send NTLMv2 response only. Refuse LM", L::L4),
        ("Send NTLMv2 response only. Refuse LM & NTLM", L::L5),
        ("Send NTLMv2 response only\\refuse LM & NTLM", L::L5),
        (r#""LmCompatibilityLevel"=dword:00000005"#, L::L5),
        ("    LmCompatibilityLevel    REG_DWORD    0x3", L::L3),
        (
            r"MACHINE\System\CurrentControlSet\Control\Lsa\LmCompatibilityLevel=4,5",
            L::L5,
        ),
        ("LmCompatibilityLevel : 4", L::L4),
    ] {
        assert_eq!(
            LmCompatibilityLevel::parse(input).map_err(|e| e.to_string()),
            Ok(level),
            "{input}"
        );
    }
    for l in LmCompatibilityLevel::ALL {
        assert_eq!(l.name().parse::<LmCompatibilityLevel>(), Ok(l));
        assert_eq!(l.level().to_string().parse::<LmCompatibilityLevel>(), Ok(l));
    }
}

#[test]
fn malformed_lm_levels() {
    for (input, problem) in [
        ("6", "not a level from 0 to 5"),
        ("0x100000000", "32 bits"),
        ("Send everything", "not a number"),
        ("", "empty"),
        (
            r#""NtlmMinClientSec"=dword:00000005"#,
            "not LmCompatibilityLevel",
        ),
        ("    LmCompatibilityLevel    REG_SZ    3", "REG_SZ"),
    ] {
        let e = LmCompatibilityLevel::parse(input).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&format!("{input:?}")), "{text}");
        assert!(text.contains(problem), "{input}: {text}");
        assert!(text.contains("expected 0 to 5"), "{text}");
    }
}
