package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mattn/go-isatty"

	"sharpflat/tui"
)

// runLab opens the terminal lab: `sharpflat [--preset NAME] [overrides]`.
func runLab(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lab", "[--preset NAME] [overrides]", stdout, stderr)
	build := configFlags(fs)
	runDir := fs.String("runs", "runs", "directory under which the w key writes runs")
	noConfirm := fs.Bool("no-confirm", false, "q quits at once, without asking about a run that was not written (for scripts)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := build()
	if err != nil {
		return usagef("%v", err)
	}
	if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
		return fmt.Errorf("the lab needs a terminal (stdin and stdout); for a headless run use 'sharpflat run --out DIR'")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return tui.RunWith(ctx, cfg, tui.Options{RunDir: *runDir, NoConfirm: *noConfirm})
}
