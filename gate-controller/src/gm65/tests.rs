//! The setup driven by hand: replies fed as bytes, time passed in.

use super::frame::ACK;
use super::*;

fn options() -> Options {
    Options {
        same_code_delay: 0x85,
        baud: 115200,
        probe: vec![115200, 9600],
        fallback_baud: 9600,
        crc: true,
    }
}

fn outputs(s: &mut Setup) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// A read reply carrying `data`.
fn value(data: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, data.len() as u8];
    body.extend_from_slice(data);
    let crc = frame::crc16(&body).to_be_bytes();
    let mut r = vec![0x02, 0x00];
    r.extend(body);
    r.extend(crc);
    r
}

fn feed(s: &mut Setup, bytes: &[u8], now: Instant) -> Vec<u8> {
    bytes.iter().filter_map(|b| s.input(*b, now)).collect()
}

fn read(addr: u16, count: u8) -> Output {
    Output::Send(Command::Read { addr, count }.encode(true))
}

fn write(addr: u16, data: &[u8]) -> Output {
    Output::Send(
        Command::Write {
            addr,
            data: data.to_vec(),
        }
        .encode(true),
    )
}

#[test]
fn a_factory_module_at_9600_is_found_set_up_saved_and_a_scan_in_between_is_kept() {
    let t0 = Instant::now();
    let mut s = Setup::new(options(), t0);
    assert_eq!(
        outputs(&mut s),
        vec![read(0x0000, 1)],
        "probes at 115200 first"
    );
    // Nothing at 115200: three attempts, then 9600.
    let mut t = t0;
    for _ in 0..2 {
        t += REPLY_TIMEOUT;
        s.handle_timeout(t);
        assert_eq!(outputs(&mut s), vec![read(0x0000, 1)]);
    }
    t += REPLY_TIMEOUT;
    s.handle_timeout(t);
    assert_eq!(outputs(&mut s), vec![Output::Baud(9600), read(0x0000, 1)]);
    // A visitor scans just before the module answers: the text is handed on whole.
    let mut bytes = b"PASS-1\r".to_vec();
    bytes.extend(value(&[0xD4]));
    assert_eq!(feed(&mut s, &bytes, t), b"PASS-1\r");
    let script: [(&[u8], Output, Option<Output>); 6] = [
        (&[0x01], read(0x000D, 1), Some(write(0x000D, &[0x00]))),
        (&[0xD4], read(0x0000, 1), Some(write(0x0000, &[0xD6]))),
        (&[0x00], read(0x0003, 1), Some(write(0x0003, &[0x02]))),
        (&[0x01], read(0x0060, 1), None),
        (&[0x00], read(0x0013, 1), Some(write(0x0013, &[0x85]))),
        (
            &[0x39, 0x01],
            read(0x002A, 2),
            Some(write(0x002A, &[0x1A, 0x00])),
        ),
    ];
    let mut first = vec![Output::Event(Event::Found { baud: 9600 })];
    for (current, expect_read, expect_write) in script {
        first.push(expect_read);
        assert_eq!(outputs(&mut s), first);
        first = Vec::new();
        feed(&mut s, &value(current), t);
        if let Some(w) = expect_write {
            assert_eq!(outputs(&mut s), vec![w]);
            feed(&mut s, &ACK, t);
        }
    }
    // The baud write was acknowledged at 9600; the save goes out at 115200.
    assert_eq!(
        outputs(&mut s),
        vec![
            Output::Baud(115200),
            Output::Send(frame::Command::Save.encode(true))
        ]
    );
    assert!(!s.is_configured());
    feed(&mut s, &ACK, t);
    assert_eq!(
        outputs(&mut s),
        vec![Output::Event(Event::Configured {
            baud: 115200,
            written: vec![
                "serial output",
                "continuous mode",
                "setting barcodes closed",
                "same-code delay",
                "baud rate"
            ],
        })]
    );
    assert!(s.is_configured());
    assert_eq!(s.poll_timeout(), Some(t + CHECK_EVERY));

    // A minute later 0x0003 is open again: reported, set up again.
    let t = t + CHECK_EVERY;
    s.handle_timeout(t);
    assert_eq!(outputs(&mut s), vec![read(0x0003, 1)]);
    feed(&mut s, &value(&[0x00]), t);
    assert_eq!(
        outputs(&mut s),
        vec![Output::Event(Event::Reset), read(0x000D, 1)]
    );
}

#[test]
fn a_module_that_never_answers_leaves_the_gate_reading_at_the_fallback_speed() {
    let t0 = Instant::now();
    let mut s = Setup::new(options(), t0);
    let mut t = t0;
    let mut sent = 0;
    let mut events = Vec::new();
    while s.poll_timeout().is_some() {
        for o in outputs(&mut s) {
            match o {
                Output::Send(_) => sent += 1,
                Output::Event(e) => events.push(e),
                Output::Baud(_) => {}
            }
        }
        t += REPLY_TIMEOUT;
        s.handle_timeout(t);
    }
    events.extend(outputs(&mut s).into_iter().filter_map(|o| match o {
        Output::Event(e) => Some(e),
        _ => None,
    }));
    assert_eq!(sent, 6, "three attempts at each speed");
    assert_eq!(events, vec![Event::NoAnswer { baud: 9600 }]);
    assert!(events[0].is_alarm());
    assert_eq!(s.baud(), 9600);
    // Every byte now goes to the framer, 02 included.
    assert_eq!(feed(&mut s, &[0x02, 0x00, b'A'], t), vec![0x02, 0x00, b'A']);
}

#[test]
fn a_late_ack_is_not_taken_for_the_next_reads_values() {
    let t0 = Instant::now();
    let mut s = Setup::new(options(), t0);
    outputs(&mut s);
    feed(&mut s, &value(&[0xD6]), t0);
    outputs(&mut s);
    feed(&mut s, &value(&[0x01]), t0);
    assert_eq!(outputs(&mut s), vec![write(0x000D, &[0x00])]);
    // The ACK is slow: the write is sent again, then both ACKs arrive.
    let t1 = t0 + REPLY_TIMEOUT;
    s.handle_timeout(t1);
    assert_eq!(outputs(&mut s), vec![write(0x000D, &[0x00])]);
    feed(&mut s, &ACK, t1);
    assert_eq!(outputs(&mut s), vec![], "the next command waits for quiet");
    feed(&mut s, &ACK, t1);
    s.handle_timeout(t1 + REPLY_TIMEOUT);
    assert_eq!(outputs(&mut s), vec![read(0x0000, 1)]);
    // An ACK now (len 1, value 00) would look like a read of 00; one came too late above and
    // was dropped, so the module's own answer is what counts.
    feed(&mut s, &value(&[0xD6]), t1 + REPLY_TIMEOUT);
    assert_eq!(outputs(&mut s), vec![read(0x0003, 1)]);
}
