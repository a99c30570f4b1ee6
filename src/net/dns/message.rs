//! DNS messages for one MX question (RFC 1035 section 4): the query we send, and the reading of
//! the answer a resolver sends back. Everything in an answer is untrusted: names are read with
//! bounds on their length and on compression pointers, which may only point backwards
//! (RFC 1035 section 4.1.4 defines them as pointing to "a prior occurrence"), so a message can
//! neither loop nor send the reader outside it.

/// TYPE MX and CLASS IN (RFC 1035 section 3.2.2 and 3.2.4); CNAME, for an alias of the domain.
const TYPE_MX: u16 = 15;
const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;

/// A name is at most 255 octets on the wire, a label at most 63 (RFC 1035 section 2.3.4).
const MAX_NAME: usize = 255;
const MAX_LABEL: usize = 63;

/// The length of the fixed header (RFC 1035 section 4.1.1).
const HEADER: usize = 12;

/// The query for the MX records of `domain` (no final dot needed), with transaction `id` and
/// recursion desired. `Err` when the name cannot be one on the wire.
pub fn mx_query(id: u16, domain: &str) -> Result<Vec<u8>, String> {
    let mut packet = Vec::with_capacity(HEADER + domain.len() + 6);
    packet.extend_from_slice(&id.to_be_bytes());
    // QR 0, OPCODE 0 (query), RD 1; one question, no other records.
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    packet.extend_from_slice(&encode_name(domain)?);
    packet.extend_from_slice(&TYPE_MX.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(packet)
}

/// `domain` as labels on the wire, lower-cased so that the question we compare against is
/// the one we asked whatever case the resolver echoes (RFC 4343: DNS names are case-blind).
fn encode_name(domain: &str) -> Result<Vec<u8>, String> {
    let domain = domain.trim_end_matches('.');
    let mut wire = Vec::with_capacity(domain.len() + 2);
    for label in domain.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL || !label.is_ascii() {
            return Err(format!("{domain:?} is not a domain name"));
        }
        wire.push(label.len() as u8);
        wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    wire.push(0);
    if wire.len() > MAX_NAME {
        return Err("the domain name is too long".into());
    }
    Ok(wire)
}

/// What one answer says.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The mail exchangers, `(preference, host)` with the host lower-case and without the final
    /// dot; empty when the domain has no MX records, or says it takes no mail (RFC 7505's
    /// "null MX", a single `.`).
    Exchangers(Vec<(u16, String)>),
    /// TC was set: the answer did not fit in a datagram; ask again over TCP (RFC 7766).
    Truncated,
    /// RCODE 3: the domain does not exist.
    NoSuchDomain,
    /// Any other RCODE (SERVFAIL, REFUSED, ...): this server cannot say; another may.
    Refused(u8),
}

/// Why a message is not an answer to our query.
#[derive(Debug, PartialEq, Eq)]
pub enum NotOurs {
    /// Another transaction, or not an answer to our question: ignored, as RFC 5452 section 9.1
    /// asks, so a forged datagram cannot end the wait for the real one.
    Stray,
    /// Our answer, but not one that can be read.
    Malformed(&'static str),
}

/// Reads `packet` as the answer to `query` (what [`mx_query`] made): the same ID, a response,
/// the same question.
pub fn read_answer(query: &[u8], packet: &[u8]) -> Result<Answer, NotOurs> {
    if packet.len() < HEADER || query.len() < HEADER {
        return Err(NotOurs::Stray);
    }
    let flags = u16::from_be_bytes([packet[2], packet[3]]);
    let is_response = flags & 0x8000 != 0;
    let question_count = u16::from_be_bytes([packet[4], packet[5]]);
    if packet[..2] != query[..2] || !is_response || question_count != 1 {
        return Err(NotOurs::Stray);
    }
    let (asked, after_question) = read_name(packet, HEADER).map_err(|_| NotOurs::Stray)?;
    let ours = encode_name_of_query(query);
    let question_type = packet.get(after_question..after_question + 4);
    if ours.as_deref() != Some(asked.as_slice()) || question_type != query.get(query.len() - 4..) {
        return Err(NotOurs::Stray);
    }
    if flags & 0x0200 != 0 {
        return Ok(Answer::Truncated);
    }
    match (flags & 0x000F) as u8 {
        0 => {}
        3 => return Ok(Answer::NoSuchDomain),
        code => return Ok(Answer::Refused(code)),
    }
    let answer_count = u16::from_be_bytes([packet[6], packet[7]]);
    read_exchangers(packet, after_question + 4, answer_count, asked).map(Answer::Exchangers)
}

/// The lower-case wire name of the question in a query we made.
fn encode_name_of_query(query: &[u8]) -> Option<Vec<u8>> {
    read_name(query, HEADER).ok().map(|(name, _)| name)
}

/// The MX records of the answer section whose owner is the name asked, or an alias it leads to
/// (a resolver answers a question about an alias with the CNAME chain, then the records of its
/// end: RFC 1034 section 4.3.2, step 3a). Records of other owners are not ours to believe.
fn read_exchangers(
    packet: &[u8],
    mut at: usize,
    count: u16,
    asked: Vec<u8>,
) -> Result<Vec<(u16, String)>, NotOurs> {
    let mut owners = vec![asked];
    let mut records = Vec::new();
    for _ in 0..count {
        let (owner, after_owner) = read_name(packet, at)?;
        let fixed = packet
            .get(after_owner..after_owner + 10)
            .ok_or(NotOurs::Malformed("a record is cut short"))?;
        let kind = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]);
        let length = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let data_at = after_owner + 10;
        let data = packet
            .get(data_at..data_at + length)
            .ok_or(NotOurs::Malformed("a record's data is cut short"))?;
        if class == CLASS_IN && owners.contains(&owner) {
            match kind {
                TYPE_CNAME => owners.push(read_name(packet, data_at)?.0),
                TYPE_MX if length >= 3 => {
                    let preference = u16::from_be_bytes([data[0], data[1]]);
                    let (exchange, end) = read_name(packet, data_at + 2)?;
                    if end != data_at + length {
                        return Err(NotOurs::Malformed("an MX record's length is wrong"));
                    }
                    records.extend(host_name(&exchange).map(|host| (preference, host)));
                }
                TYPE_MX => return Err(NotOurs::Malformed("an MX record is too short")),
                _ => {}
            }
        }
        at = data_at + length;
    }
    records.sort();
    Ok(records)
}

/// A wire name as a host name: `None` for the root (RFC 7505's null MX) and for a name that is
/// not letters, digits, hyphens and underscores, which no mail exchanger we would recognise has.
fn host_name(wire: &[u8]) -> Option<String> {
    let mut labels = Vec::new();
    let mut at = 0;
    while let Some(&length) = wire.get(at).filter(|&&length| length > 0) {
        let label = wire.get(at + 1..at + 1 + usize::from(length))?;
        if !label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return None;
        }
        labels.push(std::str::from_utf8(label).ok()?);
        at += 1 + usize::from(length);
    }
    (!labels.is_empty()).then(|| labels.join("."))
}

/// The name at `start` of `packet`, expanded and lower-cased in wire form (length-prefixed
/// labels and the final zero), and where the name ends in the message (after its pointer, if
/// it has one).
fn read_name(packet: &[u8], start: usize) -> Result<(Vec<u8>, usize), NotOurs> {
    let mut name = Vec::new();
    let mut at = start;
    let mut end = None;
    loop {
        let length = *packet
            .get(at)
            .ok_or(NotOurs::Malformed("a name runs past the message"))?;
        match length & 0xC0 {
            0x00 if length == 0 => {
                name.push(0);
                return Ok((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = packet
                    .get(at + 1..at + 1 + usize::from(length))
                    .ok_or(NotOurs::Malformed("a label runs past the message"))?;
                name.push(length);
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() + 1 > MAX_NAME {
                    return Err(NotOurs::Malformed("a name is longer than 255 octets"));
                }
                at += 1 + usize::from(length);
            }
            0xC0 => {
                let low = *packet
                    .get(at + 1)
                    .ok_or(NotOurs::Malformed("a pointer is cut short"))?;
                let target = usize::from(u16::from_be_bytes([length & 0x3F, low]));
                // Backwards only: each jump lands strictly before the last, so jumps end.
                if target >= at {
                    return Err(NotOurs::Malformed("a name pointer does not point back"));
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            // 0x40 and 0x80 are the extended label types RFC 6891 retired; nothing sends them.
            _ => return Err(NotOurs::Malformed("a label of an unknown type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real answer: `google.com MX`, captured by Wireshark from a home router's resolver and
    /// published as a C test array (`response_mx_google_com_pkt`, 178 bytes with Ethernet, IP and
    /// UDP headers; this is its DNS payload from byte 42). Five records whose names nest
    /// pointers: `alt2` points at `aspmx.l` inside the first record, which points at the
    /// question's `google.com`.
    const GOOGLE_COM_MX: &str = "\
        00028180000100050000000006676f6f676c6503636f6d00000f0001c00c000f\
        0001000002580011003204616c7434056173706d78016cc00cc00c000f000100\
        0002580009001e04616c7432c02fc00c000f0001000002580004000ac02fc00c\
        000f0001000002580009001404616c7431c02fc00c000f000100000258000900\
        2804616c7433c02f";

    fn bytes(hex: &str) -> Vec<u8> {
        let hex: String = hex.chars().filter(char::is_ascii_hexdigit).collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_query_is_rfc_1035s_layout() {
        let query = mx_query(0x0002, "Google.COM.").unwrap();
        assert_eq!(
            query,
            bytes("0002 0100 0001 0000 0000 0000 06676f6f676c6503636f6d00 000f 0001")
        );
    }

    #[test]
    fn a_real_google_answer_reads_in_preference_order() {
        let query = mx_query(0x0002, "google.com").unwrap();
        let answer = read_answer(&query, &bytes(GOOGLE_COM_MX)).unwrap();
        let hosts = [
            "aspmx.l.google.com",
            "alt1.aspmx.l.google.com",
            "alt2.aspmx.l.google.com",
            "alt3.aspmx.l.google.com",
            "alt4.aspmx.l.google.com",
        ];
        let expected: Vec<(u16, String)> = (1..=5u16)
            .zip(hosts)
            .map(|(n, host)| (n * 10, host.to_string()))
            .collect();
        assert_eq!(answer, Answer::Exchangers(expected));
    }

    #[test]
    fn another_transaction_or_question_is_stray() {
        let answer = bytes(GOOGLE_COM_MX);
        let other_id = mx_query(0x0003, "google.com").unwrap();
        assert_eq!(read_answer(&other_id, &answer), Err(NotOurs::Stray));
        let other_name = mx_query(0x0002, "gmail.com").unwrap();
        assert_eq!(read_answer(&other_name, &answer), Err(NotOurs::Stray));
        let query = mx_query(0x0002, "google.com").unwrap();
        assert_eq!(
            read_answer(&query, &query),
            Err(NotOurs::Stray),
            "not a response"
        );
    }

    #[test]
    fn truncation_and_response_codes_are_told_apart() {
        let query = mx_query(0x0002, "google.com").unwrap();
        let mut answer = bytes(GOOGLE_COM_MX);
        answer[2] |= 0x02;
        assert_eq!(read_answer(&query, &answer), Ok(Answer::Truncated));
        answer[2] &= !0x02;
        answer[3] = 0x83;
        assert_eq!(read_answer(&query, &answer), Ok(Answer::NoSuchDomain));
        answer[3] = 0x82;
        assert_eq!(read_answer(&query, &answer), Ok(Answer::Refused(2)));
    }

    #[test]
    fn a_pointer_forward_or_to_itself_is_refused_not_followed() {
        let query = mx_query(0x0002, "google.com").unwrap();
        let mut answer = bytes(GOOGLE_COM_MX);
        // The first record's owner, at 28, points at itself.
        answer[29] = 28;
        assert_eq!(
            read_answer(&query, &answer),
            Err(NotOurs::Malformed("a name pointer does not point back"))
        );
    }

    #[test]
    fn records_cut_short_are_malformed_never_a_panic() {
        let query = mx_query(0x0002, "google.com").unwrap();
        let answer = bytes(GOOGLE_COM_MX);
        for length in 28..answer.len() {
            assert!(
                matches!(
                    read_answer(&query, &answer[..length]),
                    Err(NotOurs::Malformed(_))
                ),
                "cut at {length}"
            );
        }
    }

    /// The header and question of a NOERROR answer to `query`, announcing `records` answers.
    fn answer_to(query: &[u8], records: u8) -> Vec<u8> {
        let mut answer = query.to_vec();
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = records;
        answer
    }

    /// One IN record with a TTL of 256 s.
    fn record(owner: &[u8], kind: u16, data: &[u8]) -> Vec<u8> {
        let mut record = owner.to_vec();
        record.extend_from_slice(&kind.to_be_bytes());
        record.extend_from_slice(&[0, 1, 0, 0, 1, 0]);
        record.extend_from_slice(&(data.len() as u16).to_be_bytes());
        record.extend_from_slice(data);
        record
    }

    #[test]
    fn an_alias_leads_to_its_records_and_other_owners_are_ignored() {
        let query = mx_query(7, "mail.example").unwrap();
        let mut answer = answer_to(&query, 3);
        // mail.example CNAME real.example; real.example MX 5 mx.real.example;
        // other.example MX 1 evil.example (not on the chain: ignored).
        answer.extend(record(&[0xC0, 12], TYPE_CNAME, b"\x04real\xC0\x11"));
        let real_at = answer.len() - 7;
        answer.extend(record(
            &[0xC0, real_at as u8],
            TYPE_MX,
            b"\x00\x05\x02mx\xC0\x2A",
        ));
        answer.extend(record(
            b"\x05other\x07example\x00",
            TYPE_MX,
            b"\x00\x01\x04evil\x07example\x00",
        ));
        assert_eq!(
            read_answer(&query, &answer),
            Ok(Answer::Exchangers(vec![(5, "mx.real.example".into())]))
        );
    }

    #[test]
    fn a_null_mx_means_no_exchangers() {
        // RFC 7505 section 3: "example.com. IN MX 0 ."
        let query = mx_query(9, "example.com").unwrap();
        let mut answer = answer_to(&query, 1);
        answer.extend(record(&[0xC0, 12], TYPE_MX, &[0, 0, 0]));
        assert_eq!(read_answer(&query, &answer), Ok(Answer::Exchangers(vec![])));
    }

    #[test]
    fn names_that_cannot_be_asked_are_refused() {
        assert!(mx_query(1, "").is_err());
        assert!(mx_query(1, "a..b").is_err());
        assert!(mx_query(1, &format!("{}.com", "a".repeat(64))).is_err());
        assert!(mx_query(1, &vec!["abcdefgh"; 32].join(".")).is_err());
        assert!(mx_query(1, "bücher.example").is_err());
    }
}
