//! A certificate's subject as Kafka names an SSL principal: the distinguished name in
//! RFC 2253 form, as Java's `X500Principal.getName()` writes it (and so Kafka's default
//! `ssl.principal.mapping.rules`): the RDNs last to first, joined by `,`; the attributes of a
//! multi-valued RDN joined by `+`; the usual types by their keywords (CN, C, L, ST, STREET, O,
//! OU, DC, UID) and any other as its dotted OID with the value's DER in hex (`1.2.840.113549.
//! 1.9.1=#1610...`); `, + " \ < > ;` escaped with a backslash, as are a leading `#` or space
//! and a trailing space.
//!
//! Layout read (DER, X.509): Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
//! [0] version OPTIONAL, serialNumber INTEGER, signature SEQUENCE, issuer Name, validity
//! SEQUENCE, subject Name, ... }, ... }; Name ::= SEQUENCE OF SET OF SEQUENCE { type OID,
//! value ANY }. Any malformed input gives None, never a panic.

/// One DER element: (tag, contents, the whole element, what follows it).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((tag, &rest[..len], &input[..header + len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The subject of a DER certificate, in RFC 2253 form.
pub fn subject_of(cert_der: &[u8]) -> Option<String> {
    let (tag, cert, _, _) = tlv(cert_der)?;
    (tag == SEQUENCE).then_some(())?;
    let (tag, tbs, _, _) = tlv(cert)?;
    (tag == SEQUENCE).then_some(())?;
    let mut rest = tbs;
    // [0] EXPLICIT version, when present.
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.3;
    }
    // serialNumber, signature, issuer, validity.
    for _ in 0..4 {
        rest = tlv(rest)?.3;
    }
    let (tag, name, _, _) = tlv(rest)?;
    (tag == SEQUENCE).then_some(())?;
    name_rfc2253(name)
}

/// The contents of a Name's SEQUENCE, in RFC 2253 form.
pub fn name_rfc2253(mut name: &[u8]) -> Option<String> {
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (tag, set, _, next) = tlv(name)?;
        (tag == SET).then_some(())?;
        let mut atvs = Vec::new();
        let mut set = set;
        while !set.is_empty() {
            let (tag, atv, _, next) = tlv(set)?;
            (tag == SEQUENCE).then_some(())?;
            let (tag, oid, _, value) = tlv(atv)?;
            (tag == OID).then_some(())?;
            let (vtag, vcontent, vwhole, _) = tlv(value)?;
            let text = match keyword(oid) {
                Some(k) => match string_value(vtag, vcontent) {
                    Some(s) => format!("{k}={}", escape(&s)),
                    None => format!("{k}=#{}", hex(vwhole)),
                },
                None => format!("{}=#{}", dotted(oid)?, hex(vwhole)),
            };
            atvs.push(text);
            set = next;
        }
        rdns.push(atvs.join("+"));
        name = next;
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// The RFC 2253 keyword of an attribute type (its OID's contents), for those Java names.
fn keyword(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

/// A directory string's text: UTF8String, PrintableString, IA5String, TeletexString (as
/// Latin-1) or BMPString (UCS-2); None for any other type.
fn string_value(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => std::str::from_utf8(content).ok().map(str::to_string),
        0x14 => Some(content.iter().map(|&b| b as char).collect()),
        0x1e => {
            if content.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OID's contents in dotted form.
fn dotted(oid: &[u8]) -> Option<String> {
    let (&first, _) = oid.split_first()?;
    let mut parts = vec![(first / 40).min(2) as u64];
    parts.push(first as u64 - parts[0] * 40);
    let mut acc: u64 = 0;
    for &b in &oid[1..] {
        acc = acc.checked_mul(128)? | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            parts.push(acc);
            acc = 0;
        }
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element of `tag` around `content`.
    fn el(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    fn atv(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        el(SEQUENCE, &[el(OID, oid), el(tag, value)].concat())
    }

    fn rdn(atvs: &[Vec<u8>]) -> Vec<u8> {
        el(SET, &atvs.concat())
    }

    /// A certificate whose only meaningful part is its subject.
    fn cert(subject_rdns: &[Vec<u8>]) -> Vec<u8> {
        let tbs = [
            el(0xa0, &el(0x02, &[2])),
            el(0x02, &[1, 2, 3]),
            el(SEQUENCE, &el(OID, &[0x2a, 0x86, 0x48])),
            el(SEQUENCE, &rdn(&[atv(&[0x55, 4, 3], 0x0c, b"issuer")])),
            el(
                SEQUENCE,
                &[el(0x17, b"250101000000Z"), el(0x17, b"350101000000Z")].concat(),
            ),
            el(SEQUENCE, &subject_rdns.concat()),
            el(SEQUENCE, &[]),
        ]
        .concat();
        el(
            SEQUENCE,
            &[el(SEQUENCE, &tbs), el(SEQUENCE, &[]), el(0x03, &[0])].concat(),
        )
    }

    #[test]
    fn subjects_read_as_java_writes_them() {
        let email = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
            (
                vec![
                    rdn(&[atv(&[0x55, 4, 6], 0x13, b"US")]),
                    rdn(&[atv(&[0x55, 4, 10], 0x0c, b"Weir")]),
                    rdn(&[atv(&[0x55, 4, 3], 0x0c, b"alice")]),
                ],
                "CN=alice,O=Weir,C=US",
            ),
            (
                vec![rdn(&[
                    atv(&[0x55, 4, 11], 0x0c, b"ops"),
                    atv(&[0x55, 4, 3], 0x13, b"bob"),
                ])],
                "OU=ops+CN=bob",
            ),
            (
                vec![rdn(&[atv(&[0x55, 4, 3], 0x0c, b"a,b+c\"d\\e<f>g;h")])],
                "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h",
            ),
            (
                vec![rdn(&[atv(&[0x55, 4, 3], 0x0c, b"#lead and trail ")])],
                "CN=\\#lead and trail\\ ",
            ),
            (
                vec![rdn(&[atv(&email, 0x16, b"a@b")])],
                "1.2.840.113549.1.9.1=#1603614062",
            ),
            (
                vec![rdn(&[atv(&[0x55, 4, 3], 0x1e, &[0, b'z', 0x00, 0xe9])])],
                "CN=z\u{e9}",
            ),
            (vec![], ""),
        ];
        for (rdns, want) in cases {
            assert_eq!(subject_of(&cert(&rdns)).as_deref(), Some(want));
        }
    }

    #[test]
    fn malformed_input_gives_none() {
        let good = cert(&[rdn(&[atv(&[0x55, 4, 3], 0x0c, b"alice")])]);
        for cut in 0..good.len() {
            let _ = subject_of(&good[..cut]);
        }
        assert_eq!(subject_of(&[]), None);
        assert_eq!(subject_of(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(subject_of(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        let mut flipped = good.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = subject_of(&flipped);
            flipped[i] ^= 0xff;
        }
        assert_eq!(dotted(&[0x2a, 0x86, 0x48]).as_deref(), Some("1.2.840"));
    }
}
