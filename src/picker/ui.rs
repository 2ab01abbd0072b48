//! The picker's screen: crossterm on the terminal, drawn on stderr (stdout stays free for the shell code
//! `awsso use` and `awsso env` print, so `eval "$(awsso env)"` works), in the alternate screen so nothing
//! is left behind. Only the visible rows are drawn.
//!
//! `AWSSO_PICKER_TRACE=FILE` appends how long opening and each keystroke took (scripts/bench-picker.sh).
use std::io::{self, Write};
use std::time::Instant;

use crossterm::cursor::{Hide, MoveTo, Show};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{self, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{execute, queue};

use super::{Candidate, Ranker};

pub enum Outcome {
    Picked(usize),
    Cancelled,
}

/// Restores the terminal however the picker ends (an error, a panic unwinding).
struct Screen;

impl Screen {
    fn enter() -> io::Result<Screen> {
        terminal::enable_raw_mode()?;
        let screen = Screen;
        execute!(io::stderr(), EnterAlternateScreen, Hide)?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(io::stderr(), Show, LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
    }
}

struct Trace(Option<std::fs::File>);

impl Trace {
    fn open() -> Trace {
        Trace(crate::vars::env().picker_trace.as_ref().and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        }))
    }
    fn note(&mut self, what: &str, since: Instant) {
        if let Some(f) = &mut self.0 {
            let _ = writeln!(f, "{what} {}", since.elapsed().as_micros());
        }
    }
}

struct State<'a> {
    cands: &'a [Candidate],
    frecency: &'a [f64],
    title: &'a str,
    color: bool,
    query: String,
    hits: Vec<usize>,
    selected: usize,
    ranker: Ranker,
}

impl State<'_> {
    fn refilter(&mut self) {
        self.hits = self.ranker.rank(self.cands, self.frecency, &self.query);
        self.selected = 0;
    }

    fn draw(&self, out: &mut impl Write) -> io::Result<()> {
        let (cols, rows) = terminal::size().unwrap_or((80, 24));
        let width = usize::from(cols.max(20));
        queue!(out, MoveTo(0, 0), Clear(ClearType::All))?;
        let status = format!("  {}/{}", self.hits.len(), self.cands.len());
        queue!(
            out,
            Print(fit(
                &format!("{} {}", self.title, self.query),
                width - status.len()
            )),
            SetAttribute(Attribute::Dim),
            Print(&status),
            SetAttribute(Attribute::Reset),
        )?;
        let list_rows = usize::from(rows.saturating_sub(2)).max(1);
        if self.hits.is_empty() {
            queue!(out, MoveTo(0, 1), Print("  no match (Esc cancels)"))?;
        }
        let first = self.selected.saturating_sub(list_rows - 1);
        for (row, &i) in self.hits.iter().skip(first).take(list_rows).enumerate() {
            let c = &self.cands[i];
            let [name, id, role, session, profile] = c.columns();
            let line = format!("{name:<24} {id:<12} {role:<22} {session:<14} {profile}");
            let chosen = first + row == self.selected;
            queue!(out, MoveTo(0, (row + 1) as u16))?;
            queue!(out, Print(if chosen { "▶ " } else { "  " }))?;
            match c.color.filter(|_| self.color) {
                Some([r, g, b]) => queue!(
                    out,
                    SetForegroundColor(Color::Rgb { r, g, b }),
                    Print("█ "),
                    ResetColor
                )?,
                None => queue!(out, Print("  "))?,
            }
            if chosen {
                queue!(out, SetAttribute(Attribute::Reverse))?;
            }
            queue!(
                out,
                Print(fit(&line, width - 4)),
                SetAttribute(Attribute::Reset)
            )?;
        }
        let hint = "↑↓ move · Enter pick · Esc cancel";
        queue!(
            out,
            MoveTo(0, rows.saturating_sub(1)),
            SetAttribute(Attribute::Dim),
            Print(fit(hint, width)),
            SetAttribute(Attribute::Reset),
            MoveTo(
                (self.title.chars().count() + 1 + self.query.chars().count()) as u16,
                0
            ),
        )?;
        out.flush()
    }
}

/// `s` cut to `width` characters.
fn fit(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

/// Runs the picker until a pick or a cancel. `started` is when the command began (for the trace).
pub fn pick(
    cands: &[Candidate],
    frecency: &[f64],
    title: &str,
    color: bool,
    started: Instant,
) -> io::Result<Outcome> {
    let mut trace = Trace::open();
    let _screen = Screen::enter()?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stderr());
    let mut state = State {
        cands,
        frecency,
        title,
        color,
        query: String::new(),
        hits: Vec::new(),
        selected: 0,
        ranker: Ranker::default(),
    };
    state.refilter();
    state.draw(&mut out)?;
    trace.note("open_us", started);
    loop {
        let ev = event::read()?;
        let t = Instant::now();
        let Event::Key(KeyEvent {
            code,
            modifiers,
            kind,
            ..
        }) = ev
        else {
            if let Event::Resize(..) = ev {
                state.draw(&mut out)?;
            }
            continue;
        };
        if kind == KeyEventKind::Release {
            continue;
        }
        let ctrl = modifiers.contains(KeyModifiers::CONTROL);
        match code {
            KeyCode::Esc => return Ok(Outcome::Cancelled),
            KeyCode::Char('c' | 'd' | 'g') if ctrl => return Ok(Outcome::Cancelled),
            KeyCode::Enter => {
                if let Some(&i) = state.hits.get(state.selected) {
                    return Ok(Outcome::Picked(i));
                }
                continue;
            }
            KeyCode::Up => state.selected = state.selected.saturating_sub(1),
            KeyCode::Char('p' | 'k') if ctrl => state.selected = state.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => {
                state.selected = (state.selected + 1).min(state.hits.len().saturating_sub(1))
            }
            KeyCode::Char('n' | 'j') if ctrl => {
                state.selected = (state.selected + 1).min(state.hits.len().saturating_sub(1))
            }
            KeyCode::Backspace => {
                state.query.pop();
                state.refilter();
            }
            KeyCode::Char('u') if ctrl => {
                state.query.clear();
                state.refilter();
            }
            KeyCode::Char(ch) if !ctrl && !ch.is_control() => {
                state.query.push(ch);
                state.refilter();
            }
            _ => continue,
        }
        state.draw(&mut out)?;
        trace.note("key_us", t);
    }
}
