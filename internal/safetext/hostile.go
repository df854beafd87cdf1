package safetext

// Hostile holds the sequences a terminal executes: CSI, OSC 52 (a clipboard write), DCS, APC,
// C1 CSI/OSC, a carriage return that rewrites the line, a bidi override, an invalid byte.
// Tests at every boundary feed these and check with Executable that none survives.
func Hostile() []string {
	return []string{
		"\x1b[2J\x1b[H",
		"\x1b]52;c;cHduZWQ=\x07",
		"\x1b]0;title\x1b\\",
		"\x1bP+q\x1b\\",
		"\x1b_apc\x1b\\",
		"\u009b2J",
		"\u009d0;t\u009c",
		"ok\rEVIL",
		"\u202egnp.exe",
		"\xff\xfe",
		"\x00\x7f\x08",
	}
}

// Executable reports whether s holds a byte or rune a terminal would act on, what Line and
// Text remove: ESC, any other C0 but \n and \t, DEL, C1, a bidi control, an invalid byte.
func Executable(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && unsafe(r, true) {
			return true
		}
	}
	return false
}
