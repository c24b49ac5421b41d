use super::*;

const RFC_SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
const RFC_SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

fn rfc_credential() -> ScramCredential {
    ScramCredential::from_password(
        ScramMechanism::Sha256,
        b"pencil",
        B64.decode(RFC_SALT).unwrap(),
        4096,
    )
}

/// RFC 7677 section 3: the SCRAM-SHA-256 exchange, byte for byte.
#[test]
fn rfc7677_test_vector() {
    let mut s = ScramServer::new(ScramMechanism::Sha256, RFC_SERVER_NONCE.to_string());
    let (server_first, first) = s
        .client_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", |u| {
            (u == "user").then(rfc_credential)
        })
        .unwrap();
    assert_eq!(first.user, "user");
    assert_eq!(
        String::from_utf8(server_first).unwrap(),
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    );
    let server_final = s
        .client_final(
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
              p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(server_final).unwrap(),
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    );
}

/// A client's side, for round trips: (client-final, expected server-final).
fn client_final(
    m: ScramMechanism,
    password: &str,
    client_first_bare: &str,
    server_first: &str,
) -> (String, String) {
    let attrs: Vec<(&str, &str)> = server_first
        .split(',')
        .map(|a| a.split_once('=').unwrap())
        .collect();
    let nonce = attrs[0].1;
    let salt = B64.decode(attrs[1].1).unwrap();
    let iterations: u32 = attrs[2].1.parse().unwrap();
    let salted = m.salted_password(password.as_bytes(), &salt, iterations);
    let client_key = m.hmac(&salted, b"Client Key");
    let stored_key = m.hash(&client_key);
    let without_proof = format!("c=biws,r={nonce}");
    let auth = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = m.hmac(&stored_key, auth.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    let server_key = m.hmac(&salted, b"Server Key");
    (
        format!("{without_proof},p={}", B64.encode(proof)),
        format!("v={}", B64.encode(m.hmac(&server_key, auth.as_bytes()))),
    )
}

fn exchange(m: ScramMechanism, stored_password: &str, password: &str) -> Result<(), ScramError> {
    let cred =
        ScramCredential::from_password(m, stored_password.as_bytes(), random_bytes(16), 4096);
    let mut s = ScramServer::new(m, server_nonce());
    let bare = "n=alice,r=fyko+d2lbbFgONRv9qkxdawL";
    let (server_first, _) = s.client_first(format!("n,,{bare}").as_bytes(), |_| Some(cred))?;
    let server_first = String::from_utf8(server_first).unwrap();
    let (final_msg, expected) = client_final(m, password, bare, &server_first);
    let got = s.client_final(final_msg.as_bytes())?;
    assert_eq!(String::from_utf8(got).unwrap(), expected);
    Ok(())
}

#[test]
fn both_mechanisms_round_trip_and_refuse_a_wrong_password() {
    for m in ScramMechanism::ALL {
        exchange(m, "secret", "secret").unwrap();
        let e = exchange(m, "secret", "Secret").unwrap_err();
        assert_eq!(e.message, "Invalid client credentials");
    }
}

#[test]
fn salted_password_credentials_equal_password_ones() {
    let salt = random_bytes(16);
    for m in ScramMechanism::ALL {
        let salted = m.salted_password(b"pw", &salt, 8192);
        assert_eq!(
            ScramCredential::from_salted_password(m, salt.clone(), &salted, 8192),
            ScramCredential::from_password(m, b"pw", salt.clone(), 8192)
        );
        assert_eq!(ScramMechanism::from_name(m.name()), Some(m));
        assert_eq!(ScramMechanism::from_code(m.code()), Some(m));
    }
}

/// Every malformed or lying message is refused with Kafka's words, never a panic.
#[test]
fn bad_messages_are_refused() {
    let firsts: &[(&[u8], &str)] = &[
        (b"", "Invalid SCRAM client first message"),
        (b"n,,", "Invalid SCRAM"),
        (b"x,,n=user,r=abc", "Invalid SCRAM client first message"),
        (
            b"p=tls-unique,,n=user,r=abc",
            "Channel binding is not supported",
        ),
        (
            b"n,,m=ext,n=user,r=abc",
            "Mandatory extensions are not supported",
        ),
        (b"n,,n=,r=abc", "Invalid SCRAM client first message"),
        (b"n,,n=us=er,r=abc", "Invalid username encoding"),
        (b"n,,n=user", "Invalid SCRAM client first message"),
        (b"n,,n=user,r=", "Invalid SCRAM client first message"),
        (b"n,,n=user,r=a b", "Invalid SCRAM client first message"),
        (b"n,a=admin,n=user,r=abc", "different from username"),
        (b"n,,n=nobody,r=abc", "Invalid user credentials"),
        (b"\xff\xfe", "Invalid SCRAM client first message"),
    ];
    for (msg, want) in firsts {
        let mut s = ScramServer::new(ScramMechanism::Sha256, "srv".into());
        let e = s
            .client_first(msg, |u| (u == "user").then(rfc_credential))
            .unwrap_err();
        assert!(e.message.contains(want), "{msg:?}: {}", e.message);
        // An exchange that failed stays failed.
        assert!(s.client_final(b"c=biws,r=abcsrv,p=AAAA").is_err());
    }
    let finals: &[(&[u8], &str)] = &[
        (b"", "Invalid SCRAM client final message"),
        (b"c=biws,r=abcsrv", "Invalid SCRAM client final message"),
        (b"c=eSws,r=abcsrv,p=AAAA", "Invalid channel binding"),
        (
            b"c=!!,r=abcsrv,p=AAAA",
            "Invalid SCRAM client final message",
        ),
        (b"c=biws,r=abcother,p=AAAA", "Invalid client nonce"),
        (
            b"c=biws,r=abcsrv,p=!!",
            "Invalid SCRAM client final message",
        ),
        (b"c=biws,r=abcsrv,p=AAAA", "Invalid client credentials"),
        (b"c=biws,r=abcsrv,p=", "Invalid client credentials"),
    ];
    for (msg, want) in finals {
        let mut s = ScramServer::new(ScramMechanism::Sha256, "srv".into());
        s.client_first(b"n,,n=user,r=abc", |_| Some(rfc_credential()))
            .unwrap();
        let e = s.client_final(msg).unwrap_err();
        assert!(e.message.contains(want), "{msg:?}: {}", e.message);
    }
    // A credential of the other mechanism is no credential.
    let mut s = ScramServer::new(ScramMechanism::Sha512, "srv".into());
    assert!(s
        .client_first(b"n,,n=user,r=abc", |_| Some(rfc_credential()))
        .is_err());
}

#[test]
fn saslnames_and_extensions() {
    let f = parse_client_first(b"y,a=a=3Db=2Cc,n=a=3Db=2Cc,r=xyz,tokenauth=true").unwrap();
    assert_eq!(f.user, "a=b,c");
    assert_eq!(f.authzid.as_deref(), Some("a=b,c"));
    assert_eq!(f.gs2_header, "y,a=a=3Db=2Cc,");
    assert_eq!(
        f.extensions,
        vec![("tokenauth".to_string(), "true".to_string())]
    );
    assert_eq!(f.bare, "n=a=3Db=2Cc,r=xyz,tokenauth=true");
}

#[test]
fn random_material_is_fresh() {
    assert_eq!(random_bytes(40).len(), 40);
    assert_ne!(random_bytes(16), random_bytes(16));
    let n = server_nonce();
    assert!(!n.contains(','));
    assert_ne!(n, server_nonce());
}
