package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The attack of issue 25: a line break in --out ends a comment line of arms.sbatch and starts
// a command. Every byte a script cannot carry is refused in every field, naming the field,
// before anything is written.
func TestEmitRefusesControlCharacters(t *testing.T) {
	var bad []string
	for b := 0; b < 0x20; b++ {
		bad = append(bad, string(rune(b)))
	}
	// U+0085, U+2028 and U+2029 are line breaks to a YAML 1.1 parser (libyaml, PyYAML,
	// go-yaml v2): in a comment of a manifest they start a line of YAML.
	bad = append(bad, "\x7f", "\u009b", "\u202e", "\xff", "\ufffe", "\u0085", "\u2028", "\u2029")
	for _, c := range []Cluster{Slurm, Kubernetes} {
		for _, v := range bad {
			val := "/w/ex" + v + "nl;touch /tmp/pwned"
			for _, tc := range []struct {
				field string
				opts  EmitOptions
			}{
				{FieldDir, EmitOptions{Dir: val, Binary: "/bin/sharpflat", Args: []string{"experiment", "switch"}}},
				{FieldBinary, EmitOptions{Dir: "/w/ex", Binary: val, Args: []string{"experiment", "switch"}}},
				{FieldArg, EmitOptions{Dir: "/w/ex", Binary: "/bin/sharpflat", Args: []string{"experiment", "switch", "--config=" + val}}},
			} {
				_, _, err := jobFiles(c, "switch", 3, tc.opts)
				var uv *UnsafeValueError
				if !errors.As(err, &uv) || uv.Field != tc.field {
					t.Errorf("cluster %d, %s %q: err %v, want an UnsafeValueError naming the %s", c, tc.field, val, err, tc.field)
					continue
				}
				if tc.field == FieldArg && uv.Index != 2 {
					t.Errorf("%q: index %d, want 2", val, uv.Index)
				}
				if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Errorf("the error quotes the value raw: %q", msg)
				}
			}
		}
	}
	// Through Emit: nothing is created.
	x, _ := Lookup("switch")
	base, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	_, _, err = x.Emit(Slurm, base, Sweep{Quick: true, Warmup: -1}, EmitOptions{Dir: root + "/ex\nnl;touch " + root + "/pwned", Binary: "/bin/true"})
	var uv *UnsafeValueError
	if !errors.As(err, &uv) || uv.Field != FieldDir || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("Emit with a line break in the directory: %v", err)
	}
	if es, _ := os.ReadDir(root); len(es) != 0 {
		t.Errorf("a refused Emit wrote %v", es)
	}
	// Slurm's --output cannot carry a backslash (it turns off %a); Kubernetes can.
	if _, _, err := jobFiles(Slurm, "switch", 3, EmitOptions{Dir: `/w/a\b`, Binary: "/b"}); !errors.As(err, &uv) || uv.Field != FieldDir {
		t.Errorf("a backslash in a Slurm directory: %v", err)
	}
	if _, _, err := jobFiles(Kubernetes, "switch", 3, EmitOptions{Dir: `/w/a\b`, Binary: "/b"}); err != nil {
		t.Errorf("a backslash in a Kubernetes directory: %v", err)
	}
}

// hostileValues are values a job script must carry literally: quotes, $, command
// substitutions, backticks, globs, #, %, spaces, backslashes, non-ASCII letters, a long path.
func hostileValues() []string {
	long := strings.Repeat("d", 200)
	return []string{
		`plain`, `it's`, `"dq"`, `$HOME`, `$(touch pwned)`, "`touch pwned`", `;touch pwned;`,
		`a b  c`, `*`, `?[a]`, `#hash`, `x#y`, `%a%A%%%j`, `\`, `a\nb`, `\"`, `'\''`, `~root`,
		`${IFS}`, `$(JOB_COMPLETION_INDEX)`, `$$(X)`, `$'x'`, `!!`, `-x`, `--report`, `é ü 中`, `a|b&c>d<e`, `{a,b}`, `=`,
		strings.Join([]string{long, long, long, long, long, long, long, long, long, long}, "/"),
	}
}

// FuzzEmitScripts writes the Slurm and Kubernetes files for a directory and an argument and
// checks: a value with a control character is refused (naming the field); any other is
// carried literally: bash -n accepts each script, and running it with SHARPFLAT set to a
// recorder, PATH empty and a fresh working directory executes the recorder with exactly the
// planned arguments and nothing else; #SBATCH lines read back (as sbatch reads them) as the
// intended directives; the YAML command reads back (as YAML and then Kubernetes read it) as
// the planned arguments.
func FuzzEmitScripts(f *testing.F) {
	for b := 0; b < 0x20; b++ {
		f.Add(fmt.Sprintf("ex%cnl;touch pwned", b), "--preset=demo")
		f.Add("ex", fmt.Sprintf("--config=a%cb", b))
	}
	f.Add("ex\x7f", "x")
	f.Add("ex", "\x7f")
	for _, br := range []string{"\u0085", "\u2028", "\u2029"} {
		f.Add("ex"+br+"injected: yes"+br+"#", "--preset=demo")
		f.Add("ex", "--config=a"+br+"injected: yes"+br+"#")
	}
	for _, v := range hostileValues() {
		f.Add(v, "--config="+v)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		f.Skip("no bash to check the scripts with")
	}
	f.Fuzz(func(t *testing.T, dirName, arg string) {
		root := t.TempDir()
		dir := root + "/" + dirName
		opts := EmitOptions{Dir: dir, Binary: root + "/bin/sharpflat", Args: []string{"experiment", "switch", arg, "--out", dir}}
		checkEmitted(t, opts)
	})
}

// controlFree is the independent statement of what a script may carry: valid UTF-8 without
// C0, DEL, C1, bidi controls, the line and paragraph separators U+2028 and U+2029 (the only
// characters of Unicode's categories Zl and Zp) or U+FFFE/U+FFFF.
func controlFree(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x2028 || r == 0x2029 || r == 0xfffd || r == 0xfffe || r == 0xffff
	})
}

// yamlLines splits a manifest into lines as a YAML 1.1 parser does: at \n, \r, NEL
// (U+0085), LS (U+2028) and PS (U+2029).
func yamlLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
	})
}

// A comment cannot quote: whatever a value holds, it goes into no comment line of a script
// or manifest (a line break there would start a line of YAML or a command).
func TestEmitWritesNoValueIntoComments(t *testing.T) {
	opts := EmitOptions{Dir: "/w/DIRMARK", Binary: "/b/BINMARK", Args: []string{"experiment", "switch", "--out", "/w/DIRMARK"}}
	for _, c := range []Cluster{Slurm, Kubernetes} {
		files, _, err := jobFiles(c, "switch", 3, opts)
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			for _, line := range yamlLines(body) {
				l := strings.TrimSpace(line)
				if strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "#SBATCH") && !strings.HasPrefix(l, "#!") &&
					(strings.Contains(l, "MARK")) {
					t.Errorf("%s: a value in a comment: %q", name, l)
				}
			}
		}
	}
}

func checkEmitted(t *testing.T, opts EmitOptions) {
	t.Helper()
	for _, c := range []Cluster{Slurm, Kubernetes} {
		files, _, err := jobFiles(c, "switch", 3, opts)
		ok := controlFree(opts.Dir) && controlFree(opts.Binary) && !slices.ContainsFunc(opts.Args, func(a string) bool { return !controlFree(a) })
		if c == Slurm && strings.Contains(opts.Dir, `\`) {
			ok = false
		}
		if !ok {
			var uv *UnsafeValueError
			if !errors.As(err, &uv) {
				t.Fatalf("cluster %d: %+v accepted (%v)", c, opts, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cluster %d: %+v refused: %v", c, opts, err)
		}
		if c == Slurm {
			checkSlurm(t, opts, files)
		} else {
			checkK8s(t, opts, files)
		}
	}
}

// checkSlurm runs the three scripts as the fuzz target says.
func checkSlurm(t *testing.T, opts EmitOptions, files map[string]string) {
	t.Helper()
	scripts := t.TempDir()
	for name, body := range files {
		path := filepath.Join(scripts, filepath.Base(name))
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
			t.Fatalf("bash -n %s: %v\n%s\n%s", name, err, out, body)
		}
	}
	// The directives, read as sbatch reads them, come before any command.
	wantDirectives := map[string][]string{
		"arms.sbatch":   {"--job-name=sharpflat-switch-arms", "--array=0-2", "--cpus-per-task=2", "--output=" + slurmPattern(opts.Dir+"/slurm") + "/arm-%A_%a.out"},
		"report.sbatch": {"--job-name=sharpflat-switch-report", "--cpus-per-task=1", "--output=" + slurmPattern(opts.Dir+"/slurm") + "/report-%j.out"},
	}
	for name, want := range wantDirectives {
		got := sbatchDirectives(t, files["slurm/"+name])
		if !slices.Equal(got, want) {
			t.Errorf("%s: sbatch reads the directives\n%q\nwant\n%q", name, got, want)
		}
	}

	bin := t.TempDir()
	recorder := filepath.Join(bin, "record")
	if err := os.WriteFile(recorder, []byte("#!/bin/sh\nprintf '%s\\0' \"$@\" >> \"$RECORD\"\nprintf '\\n' >> \"$RECORD\"\necho 42\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(script string, env ...string) (calls [][]string, trace []string) {
		t.Helper()
		work, record := t.TempDir(), filepath.Join(bin, "calls")
		os.Remove(record)
		traceFile := filepath.Join(bin, "trace")
		tf, err := os.Create(traceFile)
		if err != nil {
			t.Fatal(err)
		}
		defer tf.Close()
		cmd := exec.Command("bash", filepath.Join(scripts, script))
		cmd.Dir = work
		// PATH holds only the fake sbatch: any other command an injection ran would fail
		// with "command not found" on stderr; BASH_XTRACEFD lists every command run.
		cmd.Env = append([]string{"PATH=" + bin, "RECORD=" + record, "PS4=+ ", "SHELLOPTS=xtrace", "BASH_XTRACEFD=3"}, env...)
		cmd.ExtraFiles = []*os.File{tf}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Fatalf("%s: %v\nstderr: %s\n%s", script, err, stderr.String(), files["slurm/"+script])
		}
		if es, _ := os.ReadDir(work); len(es) != 0 {
			t.Fatalf("%s wrote %v into its working directory", script, es)
		}
		raw, _ := os.ReadFile(record)
		for _, line := range strings.SplitAfter(string(raw), "\x00\n") {
			if line != "" {
				calls = append(calls, strings.Split(strings.TrimSuffix(line, "\x00\n"), "\x00"))
			}
		}
		tr, _ := os.ReadFile(traceFile)
		return calls, strings.Split(strings.TrimSpace(string(tr)), "\n")
	}
	commands := func(trace []string) []string {
		var w []string
		for _, l := range trace {
			l = strings.TrimLeft(l, "+")
			l = strings.TrimPrefix(l, " ")
			w = append(w, strings.SplitN(strings.SplitN(l, " ", 2)[0], "=", 2)[0])
		}
		return w
	}
	want := func(tail ...string) []string { return append(append([]string(nil), opts.Args...), tail...) }

	calls, trace := run("arms.sbatch", "SHARPFLAT="+recorder, "SLURM_ARRAY_TASK_ID=0")
	if len(calls) != 1 || !slices.Equal(calls[0], want("--arm", "0")) {
		t.Errorf("arms.sbatch ran the binary with %q, want %q", calls, want("--arm", "0"))
	}
	if w := commands(trace); !slices.Equal(w, []string{"set", "SHARPFLAT", "exec"}) {
		t.Errorf("arms.sbatch ran %q, want set, SHARPFLAT=, exec:\n%s", w, strings.Join(trace, "\n"))
	}
	calls, trace = run("report.sbatch", "SHARPFLAT="+recorder)
	if len(calls) != 1 || !slices.Equal(calls[0], want("--report")) {
		t.Errorf("report.sbatch ran the binary with %q, want %q", calls, want("--report"))
	}
	if w := commands(trace); !slices.Equal(w, []string{"set", "SHARPFLAT", "exec"}) {
		t.Errorf("report.sbatch ran %q:\n%s", w, strings.Join(trace, "\n"))
	}
	// submit.sh changes to DIR/slurm and calls sbatch twice (here the recorder).
	if err := os.MkdirAll(opts.Dir+"/slurm", 0o755); err != nil {
		t.Logf("submit.sh not run: %v", err) // a name the file system refuses (too long)
		return
	}
	if err := os.Symlink(recorder, filepath.Join(bin, "sbatch")); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}
	calls, trace = run("submit.sh")
	wantCalls := [][]string{{"--parsable", "arms.sbatch"}, {"--parsable", "--dependency=afterany:42", "report.sbatch"}}
	if !slices.EqualFunc(calls, wantCalls, slices.Equal) {
		t.Errorf("submit.sh ran sbatch with %q, want %q", calls, wantCalls)
	}
	for _, w := range commands(trace) {
		if !slices.Contains([]string{"set", "cd", "sbatch", "arms", "report", "echo"}, w) {
			t.Errorf("submit.sh ran %q:\n%s", w, strings.Join(trace, "\n"))
		}
	}
}

// sbatchDirectives reads the #SBATCH lines of a script as sbatch does: up to the first line
// that is a command, each argument parsed as Slurm's src/sbatch/opt.c (_get_argument) does:
// a backslash escapes the next byte anywhere, ' or " quote up to the same quote, an unquoted
// # ends the line, an unquoted space ends the argument.
func sbatchDirectives(t *testing.T, script string) []string {
	t.Helper()
	var out []string
	for i, line := range strings.Split(script, "\n") {
		if i == 0 && strings.HasPrefix(line, "#!") {
			continue
		}
		if !strings.HasPrefix(line, "#") && strings.TrimSpace(line) != "" {
			break // sbatch stops at the first command
		}
		rest, ok := strings.CutPrefix(line, "#SBATCH")
		if !ok {
			continue
		}
		for {
			rest = strings.TrimLeft(rest, " \t")
			if rest == "" || rest[0] == '#' {
				break
			}
			var arg []byte
			var quote byte
			escape := false
			j := 0
			for ; j < len(rest) && (quote != 0 || rest[j] != ' ' && rest[j] != '\t'); j++ {
				ch := rest[j]
				switch {
				case escape:
					escape = false
				case ch == '\\':
					escape = true
					continue
				case quote != 0:
					if ch == quote {
						quote = 0
						continue
					}
				case ch == '"' || ch == '\'':
					quote = ch
					continue
				case ch == '#':
					j = len(rest)
					continue
				}
				arg = append(arg, ch)
			}
			if quote != 0 {
				t.Fatalf("sbatch: unmatched %c in %q", quote, line)
			}
			out = append(out, string(arg))
			if j >= len(rest) {
				break
			}
			rest = rest[j:]
		}
	}
	return out
}

// checkK8s reads each manifest's command and mount path back as a YAML parser and then
// Kubernetes would, by hand: a double-quoted scalar with \" and \\ escapes (any other escape
// or an unescaped control is a failure), then $$ → $ and $(JOB_COMPLETION_INDEX) → the index.
func checkK8s(t *testing.T, opts EmitOptions, files map[string]string) {
	t.Helper()
	for name, tail := range map[string][]string{"k8s/arms.yaml": {"--arm", "7"}, "k8s/report.yaml": {"--report"}} {
		body := files[name]
		var cmd []string
		var mount string
		for _, line := range yamlLines(body) {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "#") || l == "" {
				continue
			}
			// The top-level keys of a Job, and nothing else.
			if line == l {
				if k, _, _ := strings.Cut(l, ":"); !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
					t.Errorf("%s: a top-level line that is not ours: %q", name, l)
				}
			}
			if v, ok := strings.CutPrefix(l, "command: ["); ok {
				for v != "]" {
					s, rest := yamlScalar(t, v)
					cmd = append(cmd, k8sExpand(s, "7"))
					v = strings.TrimPrefix(rest, ", ")
				}
				continue
			}
			if v, ok := strings.CutPrefix(l, "mountPath: "); ok {
				s, rest := yamlScalar(t, v)
				if rest != "" {
					t.Fatalf("%s: text after mountPath: %q", name, rest)
				}
				mount = s
				continue
			}
			if strings.ContainsAny(l, `"'\$`) && !strings.HasPrefix(l, `cpu: "`) {
				t.Errorf("%s: a value outside a quoted scalar: %q", name, l)
			}
		}
		want := append(append([]string{opts.Binary}, opts.Args...), tail...)
		if !slices.Equal(cmd, want) {
			t.Errorf("%s: the pod runs %q, want %q", name, cmd, want)
		}
		if mount != filepath.Dir(opts.Dir) {
			t.Errorf("%s: mountPath %q, want %q", name, mount, filepath.Dir(opts.Dir))
		}
	}
}

// yamlScalar reads one double-quoted YAML scalar from the start of s.
func yamlScalar(t *testing.T, s string) (string, string) {
	t.Helper()
	if !strings.HasPrefix(s, `"`) {
		t.Fatalf("not a double-quoted scalar: %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				t.Fatalf("escape other than \\\" or \\\\ in %q", s)
			}
			i++
			b.WriteByte(s[i])
		case c < 0x20 || c == 0x7f:
			t.Fatalf("control byte %#x in a YAML scalar %q", c, s)
		case strings.HasPrefix(s[i:], "\u0085") || strings.HasPrefix(s[i:], "\u2028") || strings.HasPrefix(s[i:], "\u2029"):
			t.Fatalf("a Unicode line break in a YAML scalar %q", s)
		default:
			b.WriteByte(c)
		}
	}
	t.Fatalf("unterminated scalar %q", s)
	return "", ""
}

// k8sExpand expands a command value as Kubernetes does: $$ is $, $(JOB_COMPLETION_INDEX) the
// index, any other $(NAME) is left as it is (no such variable).
func k8sExpand(s, index string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(s[i:], "$(JOB_COMPLETION_INDEX)"):
			b.WriteString(index)
			i += len("$(JOB_COMPLETION_INDEX)") - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
