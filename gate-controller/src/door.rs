//! Door hardware behind embedded-hal 1.0 traits: the lock relay, the door contact, the exit
//! button and the feedback LEDs. `SimPin` records every transition with a timestamp and can be
//! driven by tests; the `rpi` feature builds rppal pins. The rest of the program never knows
//! which.

use crate::config::{PinBackend, PinsConfig};
use crate::core::{Indicator, Level};
use chrono::{DateTime, Utc};
use embedded_hal::digital::{self, ErrorKind, ErrorType, InputPin, OutputPin};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a pin could not be driven or read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DoorError {
    /// The GPIO could not be opened or a pin claimed.
    #[error("GPIO pin {pin}: {message}")]
    Gpio {
        /// BCM number.
        pin: u8,
        /// What went wrong.
        message: String,
    },
    /// This build cannot drive the configured backend.
    #[error("{0}")]
    Unsupported(String),
}

impl digital::Error for DoorError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// The lock relay: locked the moment it is built.
#[derive(Debug)]
pub struct DoorRelay<P> {
    pin: P,
    active_low: bool,
    level: Level,
}

impl<P: OutputPin> DoorRelay<P> {
    /// Takes the pin and drives it to "locked" at once.
    pub fn new(pin: P, active_low: bool) -> Result<Self, P::Error> {
        let mut relay = DoorRelay {
            pin,
            active_low,
            level: Level::Locked,
        };
        relay.lock()?;
        Ok(relay)
    }

    /// Releases the lock.
    pub fn unlock(&mut self) -> Result<(), P::Error> {
        self.set(Level::Unlocked)
    }

    /// Holds the lock.
    pub fn lock(&mut self) -> Result<(), P::Error> {
        self.set(Level::Locked)
    }

    /// Drives the relay to `level`.
    pub fn set(&mut self, level: Level) -> Result<(), P::Error> {
        // Energised means unlocked; active-low boards energise on a low level.
        let high = (level == Level::Unlocked) != self.active_low;
        if high {
            self.pin.set_high()?;
        } else {
            self.pin.set_low()?;
        }
        self.level = level;
        Ok(())
    }

    /// The level last driven.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The pin back, so a mock can be checked.
    pub fn into_inner(self) -> P {
        self.pin
    }
}

/// A debounced digital input: a level counts once it has held for `hold`.
#[derive(Debug, Clone)]
pub struct Debouncer {
    hold: Duration,
    stable: Option<bool>,
    candidate: Option<(bool, Instant)>,
}

impl Debouncer {
    /// A debouncer with no known level yet.
    pub fn new(hold: Duration) -> Self {
        Debouncer {
            hold,
            stable: None,
            candidate: None,
        }
    }

    /// Feeds one sample; returns the new stable level when it changed.
    pub fn sample(&mut self, level: bool, now: Instant) -> Option<bool> {
        if self.stable == Some(level) {
            self.candidate = None;
            return None;
        }
        match self.candidate {
            Some((l, since)) if l == level => {
                if now.saturating_duration_since(since) >= self.hold {
                    self.stable = Some(level);
                    self.candidate = None;
                    return Some(level);
                }
            }
            _ => self.candidate = Some((level, now)),
        }
        None
    }
}

/// One recorded level change of a simulated pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Transition {
    /// Wall-clock time of the change.
    pub at: DateTime<Utc>,
    /// Monotonic time of the change (for latency measurement).
    #[serde(skip)]
    pub mono: Instant,
    /// The new level.
    pub high: bool,
}

#[derive(Debug, Default)]
struct SimState {
    high: bool,
    transitions: VecDeque<Transition>,
    sets: u64,
}

/// A pin that records every transition (output) or can be driven (input). Clones share state.
#[derive(Clone, Debug, Default)]
pub struct SimPin {
    state: Arc<(Mutex<SimState>, Condvar)>,
}

/// How many transitions a sim pin remembers.
const SIM_HISTORY: usize = 256;

impl SimPin {
    /// A low pin with no history.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the level (as hardware would for an input) and records a change.
    pub fn drive(&self, high: bool) {
        let mut s = self.lock();
        s.sets += 1;
        if s.high != high || s.transitions.is_empty() {
            s.high = high;
            if s.transitions.len() == SIM_HISTORY {
                s.transitions.pop_front();
            }
            s.transitions.push_back(Transition {
                at: Utc::now(),
                mono: Instant::now(),
                high,
            });
        }
        self.state.1.notify_all();
    }

    /// The current level.
    pub fn is_set_high(&self) -> bool {
        self.lock().high
    }

    /// The recorded changes, oldest first.
    pub fn transitions(&self) -> Vec<Transition> {
        self.lock().transitions.iter().copied().collect()
    }

    /// How many times the pin was driven (changes or not).
    pub fn set_count(&self) -> u64 {
        self.lock().sets
    }

    /// Waits until the pin has been driven more than `after` times; returns the instant of the
    /// last drive that changed the level, or `None` on timeout.
    pub fn wait_for_set(&self, after: u64, timeout: Duration) -> Option<u64> {
        let guard = self.lock();
        let (guard, _) = self
            .state
            .1
            .wait_timeout_while(guard, timeout, |s| s.sets <= after)
            .unwrap_or_else(|p| p.into_inner());
        (guard.sets > after).then_some(guard.sets)
    }
}

impl ErrorType for SimPin {
    type Error = DoorError;
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), DoorError> {
        self.drive(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), DoorError> {
        self.drive(true);
        Ok(())
    }
}

impl InputPin for SimPin {
    fn is_high(&mut self) -> Result<bool, DoorError> {
        Ok(self.is_set_high())
    }
    fn is_low(&mut self) -> Result<bool, DoorError> {
        Ok(!self.is_set_high())
    }
}

/// An output pin of whichever backend is configured.
#[derive(Debug)]
pub enum OutPin {
    /// Simulated.
    Sim(SimPin),
    /// Raspberry Pi GPIO.
    #[cfg(feature = "rpi")]
    Rpi(rppal::gpio::OutputPin),
}

impl ErrorType for OutPin {
    type Error = DoorError;
}

impl OutputPin for OutPin {
    fn set_low(&mut self) -> Result<(), DoorError> {
        match self {
            OutPin::Sim(p) => p.set_low(),
            #[cfg(feature = "rpi")]
            OutPin::Rpi(p) => {
                rppal::gpio::OutputPin::set_low(p);
                Ok(())
            }
        }
    }
    fn set_high(&mut self) -> Result<(), DoorError> {
        match self {
            OutPin::Sim(p) => p.set_high(),
            #[cfg(feature = "rpi")]
            OutPin::Rpi(p) => {
                rppal::gpio::OutputPin::set_high(p);
                Ok(())
            }
        }
    }
}

/// An input pin of whichever backend is configured.
#[derive(Debug)]
pub enum InPin {
    /// Simulated.
    Sim(SimPin),
    /// Raspberry Pi GPIO.
    #[cfg(feature = "rpi")]
    Rpi(rppal::gpio::InputPin),
}

impl ErrorType for InPin {
    type Error = DoorError;
}

impl InputPin for InPin {
    fn is_high(&mut self) -> Result<bool, DoorError> {
        match self {
            InPin::Sim(p) => p.is_high(),
            #[cfg(feature = "rpi")]
            InPin::Rpi(p) => Ok(rppal::gpio::InputPin::is_high(p)),
        }
    }
    fn is_low(&mut self) -> Result<bool, DoorError> {
        self.is_high().map(|h| !h)
    }
}

/// An input with its polarity and debouncer.
#[derive(Debug)]
pub struct Input<P = InPin> {
    pin: P,
    active_high: bool,
    debouncer: Debouncer,
}

impl<P: InputPin> Input<P> {
    /// Reads the pin; returns `Some(active)` when the debounced state changed.
    pub fn poll(&mut self, now: Instant) -> Result<Option<bool>, P::Error> {
        let high = self.pin.is_high()?;
        Ok(self.debouncer.sample(high == self.active_high, now))
    }
}

/// The sim pins a test or a person can drive (through the status endpoint).
#[derive(Clone, Debug, Default)]
pub struct SimControls {
    /// The relay output.
    pub relay: SimPin,
    /// Door contact: high = open.
    pub door_contact: SimPin,
    /// Exit button: high = pressed.
    pub exit_button: SimPin,
    /// Fire-alarm loop: high = alarm (as the supervised loop reads when opened or cut).
    pub fire_alarm: SimPin,
    /// The exit direction's relay of a turnstile lane.
    pub exit_relay: SimPin,
}

/// Every pin of one door.
#[derive(Debug)]
pub struct DoorPins {
    /// The lock relay, shared with the panic hook so that a panic leaves the door locked.
    pub relay: Arc<Mutex<DoorRelay<OutPin>>>,
    /// A turnstile lane's exit relay, shared with the panic hook likewise.
    pub exit_relay: Option<Arc<Mutex<DoorRelay<OutPin>>>>,
    /// Door contact (active = open).
    pub door_contact: Option<Input>,
    /// Exit button (active = pressed).
    pub exit_button: Option<Input>,
    /// Fire-alarm input (active = alarm).
    pub fire_alarm: Option<Input>,
    green: Option<OutPin>,
    red: Option<OutPin>,
    buzzer: Option<OutPin>,
    /// Present for the sim backend.
    pub sim: Option<SimControls>,
}

impl DoorPins {
    /// Claims the pins; the relay is driven to "locked" before anything else.
    pub fn open(config: &PinsConfig) -> Result<Self, DoorError> {
        let debounce = Duration::from_millis(config.input_debounce_ms);
        match config.backend {
            PinBackend::Sim => {
                let sim = SimControls::default();
                let relay = DoorRelay::new(OutPin::Sim(sim.relay.clone()), false)?;
                let exit_relay = DoorRelay::new(OutPin::Sim(sim.exit_relay.clone()), false)?;
                let input = |pin: &SimPin| Input {
                    pin: InPin::Sim(pin.clone()),
                    active_high: true,
                    debouncer: Debouncer::new(debounce),
                };
                Ok(DoorPins {
                    relay: Arc::new(Mutex::new(relay)),
                    exit_relay: Some(Arc::new(Mutex::new(exit_relay))),
                    door_contact: Some(input(&sim.door_contact)),
                    exit_button: Some(input(&sim.exit_button)),
                    fire_alarm: Some(input(&sim.fire_alarm)),
                    green: Some(OutPin::Sim(SimPin::new())),
                    red: Some(OutPin::Sim(SimPin::new())),
                    buzzer: None,
                    sim: Some(sim),
                })
            }
            PinBackend::Rpi => Self::open_rpi(config, debounce),
        }
    }

    #[cfg(not(feature = "rpi"))]
    fn open_rpi(_: &PinsConfig, _: Duration) -> Result<Self, DoorError> {
        Err(DoorError::Unsupported(
            "this build has no `rpi` feature; rebuild with --features rpi".into(),
        ))
    }

    #[cfg(feature = "rpi")]
    fn open_rpi(config: &PinsConfig, debounce: Duration) -> Result<Self, DoorError> {
        use rppal::gpio::Gpio;
        let err = |pin: u8| {
            move |e: rppal::gpio::Error| DoorError::Gpio {
                pin,
                message: e.to_string(),
            }
        };
        let relay_pin = config
            .relay
            .ok_or_else(|| DoorError::Unsupported("[pins] relay is required for rpi".into()))?;
        let gpio = Gpio::new().map_err(err(relay_pin))?;
        // Claim a relay in its locked level at once: a floating pin may open the door.
        let claim_relay = |n: u8| -> Result<DoorRelay<OutPin>, DoorError> {
            let pin = gpio.get(n).map_err(err(n))?;
            let mut out = if config.relay_active_low {
                pin.into_output_high()
            } else {
                pin.into_output_low()
            };
            out.set_reset_on_drop(false);
            DoorRelay::new(OutPin::Rpi(out), config.relay_active_low)
        };
        let relay = claim_relay(relay_pin)?;
        let exit_relay = match config.exit_relay {
            Some(n) => Some(Arc::new(Mutex::new(claim_relay(n)?))),
            None => None,
        };
        let input = |pin: Option<u8>, active_high: bool| -> Result<Option<Input>, DoorError> {
            pin.map(|n| {
                Ok(Input {
                    pin: InPin::Rpi(gpio.get(n).map_err(err(n))?.into_input_pullup()),
                    active_high,
                    debouncer: Debouncer::new(debounce),
                })
            })
            .transpose()
        };
        let output = |pin: Option<u8>| -> Result<Option<OutPin>, DoorError> {
            pin.map(|n| Ok(OutPin::Rpi(gpio.get(n).map_err(err(n))?.into_output_low())))
                .transpose()
        };
        Ok(DoorPins {
            door_contact: input(config.door_contact, config.door_open_high)?,
            exit_button: input(config.exit_button, !config.exit_button_active_low)?,
            fire_alarm: input(config.fire_alarm, config.fire_alarm_high)?,
            green: output(config.green_led)?,
            red: output(config.red_led)?,
            buzzer: output(config.buzzer)?,
            relay: Arc::new(Mutex::new(relay)),
            exit_relay,
            sim: None,
        })
    }

    /// Drives the relay.
    pub fn set_relay(&self, level: Level) -> Result<(), DoorError> {
        self.relay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set(level)
    }

    /// Drives the turnstile lane's exit relay (none configured: nothing to drive).
    pub fn set_exit_relay(&self, level: Level) -> Result<(), DoorError> {
        match &self.exit_relay {
            Some(relay) => relay.lock().unwrap_or_else(|p| p.into_inner()).set(level),
            None => Ok(()),
        }
    }

    /// Drives the LEDs and buzzer.
    pub fn indicate(&mut self, indicator: Indicator) -> Result<(), DoorError> {
        let (green, red, buzzer) = match indicator {
            Indicator::Granted => (true, false, false),
            Indicator::Denied => (false, true, true),
            Indicator::Seen => (true, true, false),
            Indicator::Off => (false, false, false),
        };
        for (pin, on) in [
            (&mut self.green, green),
            (&mut self.red, red),
            (&mut self.buzzer, buzzer),
        ] {
            if let Some(pin) = pin {
                if on { pin.set_high()? } else { pin.set_low()? }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};

    #[test]
    fn relay_locks_first_then_pulses_active_high() {
        let pin = Mock::new(&[
            Transaction::set(State::Low),
            Transaction::set(State::High),
            Transaction::set(State::Low),
        ]);
        let mut relay = DoorRelay::new(pin, false).unwrap();
        relay.unlock().unwrap();
        relay.lock().unwrap();
        relay.into_inner().done();
    }

    #[test]
    fn active_low_relay_is_locked_high() {
        let pin = Mock::new(&[Transaction::set(State::High), Transaction::set(State::Low)]);
        let mut relay = DoorRelay::new(pin, true).unwrap();
        assert_eq!(relay.level(), Level::Locked);
        relay.unlock().unwrap();
        assert_eq!(relay.level(), Level::Unlocked);
        relay.into_inner().done();
    }

    #[test]
    fn debouncer_ignores_bounces_shorter_than_hold() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::new(Duration::from_millis(50));
        assert_eq!(d.sample(false, ms(0)), None);
        assert_eq!(d.sample(false, ms(60)), Some(false));
        // A 20 ms bounce to high does not count.
        assert_eq!(d.sample(true, ms(100)), None);
        assert_eq!(d.sample(false, ms(120)), None);
        assert_eq!(d.sample(true, ms(200)), None);
        assert_eq!(d.sample(true, ms(240)), None);
        assert_eq!(d.sample(true, ms(250)), Some(true));
        assert_eq!(d.sample(true, ms(400)), None);
    }

    #[test]
    fn debounced_active_low_button_reads_through_the_trait() {
        let pin = Mock::new(&[
            Transaction::get(State::High),
            Transaction::get(State::Low),
            Transaction::get(State::High),
            Transaction::get(State::Low),
            Transaction::get(State::Low),
        ]);
        let mut input = Input {
            pin,
            active_high: false,
            debouncer: Debouncer::new(Duration::from_millis(10)),
        };
        let t0 = Instant::now();
        let seen: Vec<_> = [0, 20, 25, 40, 60]
            .into_iter()
            .map(|ms| input.poll(t0 + Duration::from_millis(ms)).unwrap())
            .collect();
        // Released, a 5 ms bounce, then held: one press, reported once it held 10 ms.
        assert_eq!(seen, vec![None, None, None, None, Some(true)]);
        input.pin.done();
    }

    #[test]
    fn sim_pin_records_transitions_with_timestamps() {
        let pins = DoorPins::open(&PinsConfig::default()).unwrap();
        let sim = pins.sim.clone().unwrap();
        assert!(!sim.relay.is_set_high(), "locked at start");
        pins.set_relay(Level::Unlocked).unwrap();
        pins.set_relay(Level::Locked).unwrap();
        let t = sim.relay.transitions();
        assert_eq!(
            t.iter().map(|t| t.high).collect::<Vec<_>>(),
            vec![false, true, false]
        );
        assert!(t[0].mono <= t[1].mono && t[1].at <= t[2].at);
    }

    #[cfg(feature = "rpi")]
    #[test]
    fn rpi_backend_without_gpio_is_a_clear_error_not_a_panic() {
        // On a real Pi this would claim BCM 17; opt in with GATEHOUSE_RPI_TEST=1 there.
        if std::env::var_os("GATEHOUSE_RPI_TEST").is_some() {
            let config = PinsConfig {
                backend: PinBackend::Rpi,
                relay: Some(17),
                ..PinsConfig::default()
            };
            let pins = DoorPins::open(&config).unwrap();
            pins.set_relay(Level::Unlocked).unwrap();
            pins.set_relay(Level::Locked).unwrap();
            return;
        }
        let config = PinsConfig {
            backend: PinBackend::Rpi,
            relay: Some(17),
            ..PinsConfig::default()
        };
        let err = DoorPins::open(&config).unwrap_err().to_string();
        assert!(err.contains("GPIO pin 17"), "{err}");
    }
}
