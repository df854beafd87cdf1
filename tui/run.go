package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// Run opens the lab on this terminal: it builds a spooled engine for cfg, trains it in the
// background, and runs the program in the alternate screen until the user quits or ctx
// ends. On the way out — also after a panic in the program or the engine — it stops the
// engine, restores the terminal and removes the spool. It returns the error that stopped
// training or the program, or nil for a normal quit.
func Run(ctx context.Context, cfg train.Config) error {
	return RunWith(ctx, cfg, Options{})
}

// RunWith is Run with session options and extra bubbletea program options (after the
// defaults: the alternate screen and ctx).
func RunWith(ctx context.Context, cfg train.Config, opts Options, popts ...tea.ProgramOption) (err error) {
	if opts.Lesson != nil {
		if cfg, err = lab.LessonConfig(opts.Lesson); err != nil {
			return err
		}
	}
	e, err := lab.NewSpooled(cfg, lab.Options{Lesson: opts.Lesson, Race: opts.Race, RaceAt: opts.RaceAt})
	if err != nil {
		return err
	}
	// A hangup (the terminal or SSH connection gone) ends the session like a quit, so the
	// spool is still removed; bubbletea itself turns SIGINT and SIGTERM into a quit.
	hupCtx, hupStop := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer hupStop()
	runCtx, stop := context.WithCancel(hupCtx)
	engineDone := make(chan error, 1)
	defer func() {
		stop()
		<-e.Done()
		if rerr := e.RemoveSpool(); rerr != nil && err == nil {
			err = fmt.Errorf("removing the spool: %w", rerr)
		}
	}()

	if opts.Clipboard == nil {
		opts.Clipboard = os.Stdout
	}
	r := lipgloss.NewRenderer(os.Stdout)
	r.HasDarkBackground() // ask the terminal now, before the program owns its input
	m := New(e, r, opts)
	defer m.Close()
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(runCtx)}, popts...)...)

	go func() {
		defer func() {
			if v := recover(); v != nil {
				engineDone <- fmt.Errorf("the engine panicked: %v\n%s", v, debug.Stack())
				p.Kill() // restores the terminal
			}
		}()
		rerr := e.Run(runCtx)
		if rerr != nil {
			// Training stopped on an error: say so and keep the charts up until q.
			p.Send(statusMsg{text: "training stopped: " + rerr.Error(), err: true})
		}
		engineDone <- rerr
	}()

	final, perr := p.Run()
	if fm, ok := final.(Model); ok && fm.shared != "" {
		fmt.Println("the setup you shared (y):", fm.shared)
	}
	stop()
	<-e.Done()
	eerr := <-engineDone
	switch {
	case eerr != nil:
		return eerr
	case perr == nil, errors.Is(perr, tea.ErrInterrupted):
		return nil
	case errors.Is(perr, tea.ErrProgramKilled) && !errors.Is(perr, tea.ErrProgramPanic) && hupCtx.Err() != nil:
		return nil // the caller's context ended, or the terminal hung up: normal ways out
	}
	return perr
}
