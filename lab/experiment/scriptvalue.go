package experiment

// What may go into a generated job script or manifest, and how it is written there. Emit
// writes the experiment directory, the binary's path and the planning arguments into shell
// scripts (in comments, #SBATCH directives and a command line) and into YAML. Quoting keeps
// spaces, quotes, $, backticks and backslashes literal, but a line break ends a comment line
// and starts a command, and other control characters are shown by no editor the way a shell
// or a YAML parser reads them: such values are refused, not escaped.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"sharpflat/internal/safetext"
)

// The fields of EmitOptions an UnsafeValueError names.
const (
	FieldDir    = "experiment directory"
	FieldBinary = "binary path"
	FieldArg    = "argument"
)

// UnsafeValueError is a value Emit refuses to write into a job script or manifest.
type UnsafeValueError struct {
	Field  string // FieldDir, FieldBinary or FieldArg
	Index  int    // for FieldArg, the index in EmitOptions.Args
	Value  string
	Reason string // "holds a line break, …"
}

func (e *UnsafeValueError) Error() string {
	// %q escapes every control character: the message is safe on a terminal.
	return fmt.Sprintf("%s %q cannot go into a job script: it %s", e.Field, e.Value, e.Reason)
}

// scriptUnsafe says why s cannot be written into a job script or a YAML manifest, or "" if
// it can: it must be valid UTF-8 without C0 or C1 controls, DEL, bidirectional controls,
// Unicode line or paragraph separators or the noncharacters U+FFFE and U+FFFF (which YAML
// does not allow either). A YAML 1.1 parser (libyaml, PyYAML, go-yaml v2) reads NEL (a C1
// control), U+2028 and U+2029 as line breaks, as bash reads \n.
func scriptUnsafe(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return "holds a line break, which would end a line of the script and start a command"
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("holds the control character %U", r)
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Sprintf("holds %U, a line break to a YAML parser, which would end a comment line of a manifest and start a line of YAML", r)
		case r == 0xfffe || r == 0xffff:
			return fmt.Sprintf("holds the noncharacter %U", r)
		case !safetext.Safe(string(r)):
			return fmt.Sprintf("holds %U, a control character that terminals and editors act on", r)
		}
	}
	return ""
}

// check refuses the options that cannot be written safely into the files of cluster c.
func (o EmitOptions) check(c Cluster) error {
	if r := scriptUnsafe(o.Dir); r != "" {
		return &UnsafeValueError{Field: FieldDir, Value: o.Dir, Reason: r}
	}
	if c == Slurm && strings.ContainsRune(o.Dir, '\\') {
		// A backslash in an --output file name turns off Slurm's %A/%a patterns, so every
		// task would write one log.
		return &UnsafeValueError{Field: FieldDir, Value: o.Dir, Reason: "holds a backslash, which turns off the file name patterns of Slurm's --output"}
	}
	if r := scriptUnsafe(o.Binary); r != "" {
		return &UnsafeValueError{Field: FieldBinary, Value: o.Binary, Reason: r}
	}
	for i, a := range o.Args {
		if r := scriptUnsafe(a); r != "" {
			return &UnsafeValueError{Field: FieldArg, Index: i, Value: a, Reason: r}
		}
	}
	return nil
}

// slurmQuote writes s as one argument of an #SBATCH line: sbatch reads a backslash as an
// escape everywhere (in quotes too), '#' outside quotes as a comment (older sbatch: even
// inside), and a space outside quotes as the end of the argument. So s is double-quoted with
// \, " and # escaped; every sbatch since 2.x reads that back as s.
func slurmQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '\\' || r == '"' || r == '#' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// slurmPattern escapes s for a file name pattern of --output, where % starts a substitution
// (%a the task index, %A the array's job id) and %% is a literal %.
func slurmPattern(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// yamlQuote writes s as a double-quoted YAML scalar. Only " and \ need escapes: check has
// refused every character YAML would not carry literally.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// k8sLiteral escapes s for a container's command or args, where Kubernetes expands
// $(VAR) from the environment and reads $$ as $: every $ of s is doubled, so that nothing
// in s is expanded.
func k8sLiteral(s string) string { return strings.ReplaceAll(s, "$", "$$") }
