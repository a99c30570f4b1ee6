//! Signing keys for the tests of service accounts and certificate credentials (issue 24, items
//! 2 and 3), and the checks a fake token endpoint makes of what is signed with them: the RS256
//! signature verified with the public key (ring), and the claims read back.
//!
//! The RSA key and its self-signed certificate were made for these tests with `openssl genpkey
//! -algorithm RSA -pkeyopt rsa_keygen_bits:2048` and `openssl req -x509`; they guard nothing.
//! The service account file has the fields of Google's JSON key format ("Creating and managing
//! service account keys"), with made-up values and the token URI of the fake server.

use base64::Engine;

/// The test RSA key, PKCS#8 PEM.
pub const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDGwl2YZFGcpTFt
PSV5s7Rhde8EAjeac+yJrLMGJ53mQ4db7R1avZiYg3fAmxHSWGoSazatgZwQkv4q
algWxHF/NsF3KgtmJdvS1vTgasTYnLVa7zhgkxLWlgyIkfAA5qyP22uAn/1WKlU3
Ku5wlgRDVxQ/By/hFYOwuydwKqoEjRsFVJB9FkvOmLWMrfCqA39iZ0TC9CaD4y/h
LIKTcsUxJc9K9kFoMe3BxmZtkLmwrQL3iL818eVXBySxXJ+AKYW8KG4YqCkWUKnF
pt1+JBhOUnYI2UFYl9aQRzrR1CtAmZvB4T7CA6cqkT/OWr99xOzqmaozkwfqJZvZ
00MJfi5ZAgMBAAECggEADPlnDqmNwkHuRgk1xwn5/lqqbYKPip+Ck0IYtZAkeIFz
9oY14lR5/4qlaIc21Jo84lLpUM4jF9ngiXhDo8jS99DlNBgkglh6TvsFJRkTHGiu
Ve9DqNow4p0M2GVeW1CzdviFvfGzocpFocJFqkfAo3ytr6eScojq/cBZxLKkQoOt
+jHMbFln2MnOHxbwZJbPiNg2c+M/rOvyJedZoA9NM+JlPG/WnoiT6y5MRmOxKNml
3iTpyu3y48M6QZWU+k1q3SwdztjB66a/oaZkVGrEqwHMKRFIZW4jLT/TN30gDl1P
L1Wewm7kfj/e56Xopl4X73lsmRFMoZMw5xgaND9J+QKBgQDxEo/ftSQWgKhreq8M
ZsqAg1Yi7vt99CR2mpm4YBYYCM/tcSkiop6ho45wTAuEJEP5b/JZlAM219R6MUO2
GOxeXX41sHIoDIdWhD394pRrrhOks6p7+0Ie3Ol2OkAD9A3E1M2jUu0U7uVmewoK
31EAxVRj7WZjCSqeC9tmhRk7BwKBgQDTEQ+xusqU6zjDIpFp2yWZhXCuNYe0ZluQ
HTGEOM/azh6FpVDyWPO76mIfQqycj/PTU3qicMIrs5yVY0N8I/Qylaj3AMWTn9Pm
cM1oWxtHRMfIqfNw04x+42sk+i0ibC4nyutEx+nBMybuxv/IWZdUiMPGL1I+BQPw
YhMSO8cTnwKBgDtMvplf3I2wfj1aA19AlcWBCRo0wSZdfO6z3uZMtIKbAFK/CEhd
yjmmmu4itp59sT7Ve77vOs8tzjV0ktxjSxl3VAlu6tXRJyVwCDPAnZPTUT+tdl1j
FAO1gbQ0ZfTS/uQRGLh5OJpynXlVAMZl4m4XHEgsaIgqBBK2hfS0/tzXAoGAGejV
QV8JsUAyxpl+ujzhn7fmvivqDbYm9UjwJCgJM/Xrf0Js7mMHAIFkLCw2Hj35k26C
9l/bJhw1U41M4ndTacY/aJrapiWPkJE2VeIhNh12XOan8Ki3bXgjVfW0Bq66972M
JfRYeJP76oHZMlH1JrZnOfPjJ6Pb+O1BJBLcfEcCgYBk59J+zYzFuUB4IKJSqmKU
D4bjakjwN2gFtggK1KGOlwFDCuSS/600x1e5CrGiRcR6EXg/SbCYxYaXJrtt3F7r
/GfbgFKGCw3UGKcqVXj8/xPGKmsnTp0PQtuKi/wBQ657i7tU6VSqh3NWcNRFDsQ1
3UTBuZpsR2xicsn0OaMLnQ==
-----END PRIVATE KEY-----\n";

/// A self-signed certificate of `KEY_PEM`'s public key.
pub const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIDIzCCAgugAwIBAgIUIi8aFrA2cn+82J9Ys/aTnr1sJ+4wDQYJKoZIhvcNAQEL
BQAwIDEeMBwGA1UEAwwVbWFpbHRva2VuIHRlc3QgY2xpZW50MCAXDTI2MTIwNTA4
MTAzM1oYDzIxMjYxMTExMDgxMDMzWjAgMR4wHAYDVQQDDBVtYWlsdG9rZW4gdGVz
dCBjbGllbnQwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDGwl2YZFGc
pTFtPSV5s7Rhde8EAjeac+yJrLMGJ53mQ4db7R1avZiYg3fAmxHSWGoSazatgZwQ
kv4qalgWxHF/NsF3KgtmJdvS1vTgasTYnLVa7zhgkxLWlgyIkfAA5qyP22uAn/1W
KlU3Ku5wlgRDVxQ/By/hFYOwuydwKqoEjRsFVJB9FkvOmLWMrfCqA39iZ0TC9CaD
4y/hLIKTcsUxJc9K9kFoMe3BxmZtkLmwrQL3iL818eVXBySxXJ+AKYW8KG4YqCkW
UKnFpt1+JBhOUnYI2UFYl9aQRzrR1CtAmZvB4T7CA6cqkT/OWr99xOzqmaozkwfq
JZvZ00MJfi5ZAgMBAAGjUzBRMB0GA1UdDgQWBBR+DcRqF2ZqL/K+oWM3Lji7coJ4
9zAfBgNVHSMEGDAWgBR+DcRqF2ZqL/K+oWM3Lji7coJ49zAPBgNVHRMBAf8EBTAD
AQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBdTO4b5zMIoGzRv8Veuz/RAdn26bL/FrUA
YYE81oyJIkHwqD0DZT3iWSAsJalWlTuyHcJ9RvC44mUBhSsp6xR77vbWudfIQiXr
wsHrh+KHe3JJMlwLsdXPNUcjRJ2sZFBVG9HAAB4EErtyQ7Z7pdxK+TxrAfVjUNfl
scTzDwNFb69FGMZrDHpfcZtUTIE8eoL3+190YmTZfOEenxFacHKKjpwTTFPTwq3U
vJtBpTLjdvvWBCeDa8+wwD9i6bgCdCTlmoTzHErIh29DAtccvBUDB+isrE47HYhQ
uTpB4uxHgOuq0VeNCdZ1WuVlajJOHp02TpDX2C17sUQTjiPT/OWu
-----END CERTIFICATE-----\n";

/// A Google service account key file for `token_uri`.
pub fn service_account_json(token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "mailtoken-tests",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": KEY_PEM,
        "client_email": "relay@mailtoken-tests.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    })
    .to_string()
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

/// The DER of the first PEM block labelled `label` in `pem`.
pub fn pem_block(pem: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).expect("the block") + begin.len();
    let stop = pem[start..].find(&end).expect("its end") + start;
    let body: String = pem[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64")
}

/// Verifies an RS256 JWT with the test key's public key, as the provider does; the header and
/// the claims, or why it is refused.
pub fn verify(jwt: &str) -> Result<(serde_json::Value, serde_json::Value), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("not three parts".into());
    };
    let header_json: serde_json::Value =
        serde_json::from_slice(&b64(header)).map_err(|e| e.to_string())?;
    if header_json["alg"] != "RS256" {
        return Err(format!("alg {}", header_json["alg"]));
    }
    // The public key, from the certificate: its SubjectPublicKeyInfo holds the PKCS#1 key ring
    // takes.
    let public = public_key();
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
        .verify(format!("{header}.{claims}").as_bytes(), &b64(signature))
        .map_err(|_| "bad signature".to_string())?;
    let claims_json = serde_json::from_slice(&b64(claims)).map_err(|e| e.to_string())?;
    Ok((header_json, claims_json))
}

/// The RSAPublicKey (PKCS#1) DER inside the certificate's SubjectPublicKeyInfo: the BIT STRING
/// that follows the rsaEncryption algorithm identifier.
fn public_key() -> Vec<u8> {
    let der = pem_block(CERT_PEM, "CERTIFICATE");
    // rsaEncryption OID, then NULL, then the BIT STRING (tag 3, long length, 0 unused bits).
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let at = der
        .windows(oid.len())
        .position(|window| window == oid)
        .expect("an RSA key")
        + oid.len();
    assert_eq!(der[at], 0x03, "a BIT STRING");
    let (length, start) = match der[at + 1] {
        0x82 => (((der[at + 2] as usize) << 8) | der[at + 3] as usize, at + 4),
        0x81 => (der[at + 2] as usize, at + 3),
        short => (short as usize, at + 2),
    };
    der[start + 1..start + length].to_vec()
}

/// The certificate's SHA-1 thumbprint, base64url: what Microsoft's `x5t` must be.
pub fn x5t() -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &pem_block(CERT_PEM, "CERTIFICATE"),
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}
