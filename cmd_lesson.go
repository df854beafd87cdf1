package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/tui"
)

// runLesson opens the lab in lesson mode: `sharpflat lesson FILE|NAME`.
func runLesson(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lesson", "[--list [FILE] | --print NAME | --check] FILE|NAME", stdout, stderr)
	list := fs.Bool("list", false, "list the built-in lessons (and the lesson FILE, if given)")
	print := fs.String("print", "", "print the built-in lesson NAME's file (a start for your own)")
	check := fs.Bool("check", false, "play the lesson headless and say whether each claim of its captions holds (exit 1 if one does not)")
	runDir := fs.String("runs", "runs", "directory under which the w key writes runs")
	noConfirm := fs.Bool("no-confirm", false, "q quits at once, without asking about a run that was not written")
	arg, args := positional(args, "print", "runs")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case *list:
		ls := lesson.Builtin()
		if arg != "" {
			l, err := lesson.Find(arg)
			if err != nil {
				return err
			}
			ls = append(slices.Clip(ls), l)
		}
		listLessons(stdout, ls)
		fmt.Fprintln(stdout, "\nOpen one with 'sharpflat lesson NAME'; write your own (docs/LESSONS.md) and open it with 'sharpflat lesson FILE'.")
		return nil
	case *print != "":
		src, ok := lesson.BuiltinSource(*print)
		if !ok {
			return usagef("--print takes a built-in lesson's name (sharpflat lesson --list), not %q", *print)
		}
		_, err := io.WriteString(stdout, safetext.Text(string(src))) // our own files: belt and braces
		return err
	case arg == "":
		return usagef("lesson: name a lesson file or a built-in lesson (sharpflat lesson --list lists them)")
	}
	l, err := lesson.Find(arg)
	if err != nil {
		return err
	}
	if *check {
		return checkLesson(l, stdout, stderr)
	}
	if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
		return fmt.Errorf("the lab needs a terminal (stdin and stdout); 'sharpflat lesson --check %s' plays it headless", arg)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	c, err := lab.LessonConfig(l)
	if err != nil {
		return err
	}
	return tui.RunWith(ctx, c, tui.Options{RunDir: *runDir, NoConfirm: *noConfirm, Lesson: l})
}

// positional takes the one argument that is not a flag out of args, wherever it is (valued
// names the flags that take the next argument as their value).
func positional(args []string, valued ...string) (arg string, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			name := strings.TrimLeft(a, "-")
			if slices.Contains(valued, name) && i+1 < len(args) {
				rest = append(rest, a, args[i+1])
				i++
				continue
			}
			rest = append(rest, a)
			continue
		}
		if arg == "" {
			arg = a
			continue
		}
		rest = append(rest, a) // parseFlags names it
	}
	return arg, rest
}

// listLessons writes one line a lesson: name, title, preset and steps. A lesson's text may
// come from anyone's file: it is shown escaped (safetext), never executed by the terminal.
func listLessons(w io.Writer, ls []*lesson.Lesson) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s · %d steps\n", safetext.Line(l.Name), safetext.Line(l.Title), safetext.Line(l.Preset), len(l.Steps))
	}
	tw.Flush()
}

// checkLesson plays l without a user, as the lab plays it, and reports every claim; a claim
// that does not hold, or a condition that never held, is named by its line in the lesson's
// file. Stderr gets the estimated time first, then a progress line as the lesson plays.
func checkLesson(l *lesson.Lesson, stdout, stderr io.Writer) error {
	c, err := lab.LessonConfig(l)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	est, err := lab.EstimateLesson(ctx, l, estimateBudget)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %s\n", safetext.Line(l.Name), est)
	pr := newProgress(stderr)
	e, err := lab.New(c, lab.Options{Lesson: l, LessonAuto: true, LessonProgress: pr.show})
	if err != nil {
		return err
	}
	if err := e.Run(ctx); err != nil {
		return err
	}
	pr.end()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	failed := 0
	fmt.Fprintf(stdout, "%s (%s, seed %d)\n", safetext.Line(l.Title), safetext.Line(l.Preset), c.Seed)
	for _, r := range e.LessonResults() {
		st := &l.Steps[r.Index]
		fmt.Fprintf(stdout, "step %d  %s  (%d training steps)\n", r.Index+1, safetext.Line(r.Title), r.Trained)
		if r.Error != "" { // the step's fresh start could not start
			failed++
			fmt.Fprintf(stdout, "  ✗ %s · %s\n", safetext.Line(r.Error), where(l, st.Line))
		}
		if r.GaveUp {
			failed++
			fmt.Fprintf(stdout, "  ✗ %s did not happen · %s\n", safetext.Line(lesson.DescribeUntil(st.Until)), where(l, st.Line))
		}
		for i, cl := range r.Claims {
			mark, at := "✓", ""
			if cl.Verdict != lesson.Holds {
				mark, at = "✗", " · "+where(l, st.Expect[i].Line)
				failed++
			}
			fmt.Fprintf(stdout, "  %s %s: %s%s\n", mark, safetext.Line(cl.Text), safetext.Line(cl.Value), at)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d claim(s) of %s do not hold", failed, safetext.Line(l.Name))
	}
	fmt.Fprintln(stdout, "every claim holds")
	return nil
}

// estimateBudget is how long lesson --check measures steps for its estimate.
const estimateBudget = 300 * time.Millisecond

// where is a line of the lesson's file, as "FILE:LINE" (as the parser's messages say it).
func where(l *lesson.Lesson, line int) string {
	f := l.File
	if f == "" {
		f = l.Name
	}
	return safetext.Line(f) + ":" + strconv.Itoa(line)
}

// progress writes lesson --check's progress line to stderr: on a terminal one line rewritten
// in place, elsewhere (a log) a line at each step's end and at most one every progressEvery.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	shown bool // a line is on the terminal, not yet ended
}

const progressEvery = 10 * time.Second

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && isatty.IsTerminal(f.Fd())}
}

// show is the engine's LessonProgress hook (on its goroutine).
func (p *progress) show(lp lab.LessonProgress) {
	line := fmt.Sprintf("step %d/%d · %d/%d steps", lp.Index+1, lp.Count, lp.Trained, lp.Target)
	if lp.Metric {
		line = fmt.Sprintf("step %d/%d · %d steps (waiting for a metric, at most %d)", lp.Index+1, lp.Count, lp.Trained, lp.Target)
	}
	end := lp.Trained >= lp.Target
	switch {
	case p.tty:
		if end || lp.Trained == 1 || time.Since(p.last) >= time.Second/4 {
			fmt.Fprintf(p.w, "\r%-60s", line)
			p.last, p.shown = time.Now(), true
		}
	case end || lp.Trained == 1 || time.Since(p.last) >= progressEvery:
		fmt.Fprintln(p.w, line)
		p.last = time.Now()
	}
}

// end ends the terminal's progress line.
func (p *progress) end() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
