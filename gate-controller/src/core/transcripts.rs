//! Transcripts of the door's main sequences, kept as text next to the script that makes them
//! (`UPDATE_EXPECT=1 cargo test -p gatehouse-gate core::` re-blesses them, and those of
//! `tests.rs`, after a deliberate change; read the diff before committing it). Each line is the time, then what
//! the core decided (`=>`) or asked the shell to do, in the order the shell does it.

use super::tests::{gate, play, play_with, policy, synced};
use super::*;
use expect_test::{Expect, expect};

fn check(gate: Gate, script: &str, expected: Expect) {
    expected.assert_eq(&play(gate, script));
}

fn latching() -> Gate {
    let mut p = policy();
    p.fire_latch = true;
    Gate::new(p, synced())
}

#[test]
fn scan_opens_then_the_door_closes_and_the_relay_locks() {
    expected_scan_cycle().assert_eq(&play_with(
        gate(),
        "
        0s     scan visitor
        500ms  door open
        2s     door closed
        3s     tick
        4s     scan expired
        ",
        true,
    ));
}

fn expected_scan_cycle() -> Expect {
    expect![[r#"
           0ms relay locked
           0ms => admit card=8
           0ms journal admitted card=8
           0ms relay unlocked
           0ms led granted
        1000ms led off
        3000ms relay locked
        4000ms => deny expired card=9
        4000ms journal denied reason=expired card=9
        4000ms led denied
    "#]]
}

#[test]
fn fire_during_an_open_pulse_holds_the_door_released() {
    check(
        gate(),
        "
        0s     scan visitor
        500ms  door open
        1s     fire on
        3s     tick
        4s     door closed
        5s     scan worker
        20s    fire off
        22s    door open
        ",
        expect![[r#"
               0ms relay locked
               0ms => admit card=8
               0ms journal admitted card=8
               0ms relay unlocked
            1000ms relay unlocked
            1000ms journal alarm alarm=fire_alarm
            1000ms report fire_alarm active
            5000ms => admit card=7
            5000ms journal admitted card=7
            20000ms journal alarm alarm=fire_alarm_cleared
            20000ms relay locked
            20000ms report fire_alarm cleared
            22000ms journal alarm alarm=door_forced
        "#]],
    );
}

#[test]
fn evacuation_outranks_lockdown_and_fire_outlasts_both() {
    check(
        gate(),
        "
        0s   lockdown on
        1s   scan visitor
        2s   evacuation on
        3s   scan visitor
        4s   fire on
        5s   evacuation off
        6s   lockdown off
        7s   lockdown on
        8s   fire off
        9s   scan visitor
        10s  lockdown off
        11s  scan visitor
        ",
        expect![[r#"
               0ms relay locked
            1000ms => deny lockdown card=8
            1000ms journal denied reason=lockdown card=8
            2000ms relay unlocked
            3000ms => deny lockdown card=8
            3000ms journal denied reason=lockdown card=8
            4000ms journal alarm alarm=fire_alarm
            4000ms report fire_alarm active
            8000ms journal alarm alarm=fire_alarm_cleared
            8000ms relay locked
            8000ms report fire_alarm cleared
            9000ms => deny lockdown card=8
            9000ms journal denied reason=lockdown card=8
            11000ms => admit card=8
            11000ms journal admitted card=8
            11000ms relay unlocked
        "#]],
    );
}

#[test]
fn a_latched_release_ends_only_by_a_reset_after_the_alarm_clears() {
    check(
        latching(),
        "
        0s    fire on
        1s    desk_reset sent 0s
        2s    fire off
        3s    scan visitor
        4s    desk_reset sent 10min
        5s    desk_reset sent 1s
        6s    scan visitor
        7s    fire reset
        ",
        expect![[r#"
               0ms relay locked
               0ms relay unlocked
               0ms journal alarm alarm=fire_alarm
               0ms report fire_alarm active
            2000ms journal alarm alarm=fire_alarm_cleared
            2000ms report fire_alarm cleared
            3000ms => admit card=8
            3000ms journal admitted card=8
            5000ms relay locked
            6000ms => admit card=8
            6000ms journal admitted card=8
            6000ms relay unlocked
            7000ms => reset false
        "#]],
    );
}

#[test]
fn a_local_reset_and_a_desk_reset_end_the_same_latch() {
    check(
        latching(),
        "
        0s   fire on
        1s   fire off
        2s   fire reset
        3s   fire on
        4s   fire off
        5s   evacuation on
        6s   desk_reset sent 0s
        7s   evacuation off
        ",
        expect![[r#"
               0ms relay locked
               0ms relay unlocked
               0ms journal alarm alarm=fire_alarm
               0ms report fire_alarm active
            1000ms journal alarm alarm=fire_alarm_cleared
            1000ms report fire_alarm cleared
            2000ms => reset true
            2000ms relay locked
            3000ms relay unlocked
            3000ms journal alarm alarm=fire_alarm
            3000ms report fire_alarm active
            4000ms journal alarm alarm=fire_alarm_cleared
            4000ms report fire_alarm cleared
            7000ms relay locked
        "#]],
    );
}
