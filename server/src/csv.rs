//! CSV for the desk's exports (gate events, outstanding cards).

/// One CSV field, quoted when it holds a separator, quote or line break; a leading formula
/// character (also after leading spaces, and a leading tab or carriage return, which some
/// spreadsheets skip) is neutralised so a spreadsheet does not run it.
pub fn field(s: &str) -> String {
    let formula =
        s.starts_with(['\t', '\r']) || s.trim_start_matches(' ').starts_with(['=', '+', '-', '@']);
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("2-1203"), "2-1203");
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("  =cmd()"), "'  =cmd()");
        assert_eq!(field(" @SUM(A1)"), "' @SUM(A1)");
        assert_eq!(field("\t=cmd()"), "'\t=cmd()");
        assert_eq!(field("\r=cmd()"), "\"'\r=cmd()\"");
        assert_eq!(field(" plain"), " plain");
    }
}
