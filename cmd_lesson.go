package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/mattn/go-isatty"

	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/tui"
)

// runLesson opens the lab in lesson mode: `sharpflat lesson FILE|NAME`.
func runLesson(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lesson", "[--list | --print NAME | --check] FILE|NAME", stdout, stderr)
	list := fs.Bool("list", false, "list the built-in lessons")
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
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, l := range lesson.Builtin() {
			fmt.Fprintf(tw, "%s\t%s\t%s · %d steps\n", l.Name, l.Title, l.Preset, len(l.Steps))
		}
		tw.Flush()
		fmt.Fprintln(stdout, "\nOpen one with 'sharpflat lesson NAME'; write your own (docs/LESSONS.md) and open it with 'sharpflat lesson FILE'.")
		return nil
	case *print != "":
		src, ok := lesson.BuiltinSource(*print)
		if !ok {
			return usagef("--print takes a built-in lesson's name (sharpflat lesson --list), not %q", *print)
		}
		_, err := stdout.Write(src)
		return err
	case arg == "":
		return usagef("lesson: name a lesson file or a built-in lesson (sharpflat lesson --list lists them)")
	}
	l, err := lesson.Find(arg)
	if err != nil {
		return err
	}
	if *check {
		return checkLesson(l, stdout)
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

// checkLesson plays l without a user, as the lab plays it, and reports every claim.
func checkLesson(l *lesson.Lesson, stdout io.Writer) error {
	c, err := lab.LessonConfig(l)
	if err != nil {
		return err
	}
	e, err := lab.New(c, lab.Options{Lesson: l, LessonAuto: true})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := e.Run(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	failed := 0
	fmt.Fprintf(stdout, "%s (%s, seed %d)\n", l.Title, l.Preset, c.Seed)
	for _, r := range e.LessonResults() {
		fmt.Fprintf(stdout, "step %d  %s  (%d training steps)\n", r.Index+1, r.Title, r.Trained)
		if r.GaveUp {
			failed++
			fmt.Fprintf(stdout, "  ✗ %s did not happen\n", lesson.DescribeUntil(l.Steps[r.Index].Until))
		}
		for _, cl := range r.Claims {
			mark := "✓"
			if cl.Verdict != lesson.Holds {
				mark = "✗"
				failed++
			}
			fmt.Fprintf(stdout, "  %s %s: %s\n", mark, cl.Text, cl.Value)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d claim(s) of %s do not hold", failed, l.Name)
	}
	fmt.Fprintln(stdout, "every claim holds")
	return nil
}
