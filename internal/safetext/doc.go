// Package safetext makes text that came from a file or a peer safe to show on a terminal.
//
// A lesson title, a run directory's name, a CSV header, an authorized_keys comment or an
// error message quoting any of them may hold bytes a terminal executes: ESC (0x1b) starts a
// CSI, OSC (a clipboard write, a window title), DCS or APC sequence; the C1 controls
// U+0080–U+009F do the same on terminals that honour them; a lone CR or BS rewrites what was
// shown; the bidirectional overrides (U+202A–U+202E, U+2066–U+2069) reorder it.
//
// Every such string passes through Line (one line: newlines escaped too) or Text (a block:
// newlines and tabs kept) at the boundary where it meets a terminal: the lab's screen, an SSH
// session, stderr, a log. Each unsafe rune is shown visibly, as Go writes it in a string
// literal (\x1b, \r, \u009b, \u202e), and an invalid UTF-8 byte as \xNN: never executed, and
// still readable enough to find in the file.
package safetext
