package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/tui/serve"
)

// runServe serves the lab over SSH: `sharpflat serve (--authorized-keys FILE | --open) ...`.
func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "(--authorized-keys FILE | --open) [--listen ADDR] [--web ADDR [--web-tokens FILE] [--tls-cert F --tls-key F]] [--classroom [--controllers FILE]] [--lesson NAME|FILE] [--preset NAME] [overrides]", stdout, stderr)
	build := configFlags(fs)
	d := serve.DefaultConfig()
	listen := fs.String("listen", d.Addr, "TCP address to listen on")
	hostKey := fs.String("host-key", d.HostKeyPath, "the server's private key; an ed25519 key is generated there (mode 0600) if missing")
	authKeys := fs.String("authorized-keys", "", "public keys that may log in, OpenSSH authorized_keys format, re-read on change; expiry-time, from, restrict and no-pty are honoured, keys with command= and other options the server cannot honour are skipped [required unless --open]")
	open := fs.Bool("open", false, "let anyone in: any key, or anonymously without one (logged as a warning)")
	classroom := fs.Bool("classroom", false, "one shared engine: keys in --controllers steer it, every other session watches read-only")
	lessonArg := fs.String("lesson", "", "play a lesson (a built-in NAME or a FILE): with --classroom the controllers step it and everyone sees the same step; otherwise every session gets its own (its preset replaces --preset)")
	controllers := fs.String("controllers", "", "with --classroom: public keys that may steer; they may log in without being in --authorized-keys (authorized_keys format, re-read on change)")
	maxSessions := fs.Int("max-sessions", d.MaxSessions, "sessions at once, in all")
	maxPerKey := fs.Int("max-per-key", d.MaxPerKey, "sessions at once per key (per source address for anonymous sessions); a web controller token counts as a key")
	maxPerLink := fs.Int("max-per-link", d.MaxPerLink, "--web: sessions at once per shared watcher link and source address, so that a class behind one NAT can join (0: --max-sessions)")
	maxEngines := fs.Int("max-engines", d.MaxEngines, "per-session mode: engines training at once (each takes a core when it can)")
	maxQueue := fs.Int("max-queue", d.MaxQueue, "per-session mode: sessions waiting for an engine, shown their position (0: refuse when full)")
	handshake := fs.Duration("handshake-timeout", d.HandshakeTimeout, "from connecting to a running session; also closes a connection left without a session")
	idle := fs.Duration("idle-timeout", d.IdleTimeout, "close a session after this long without a key press (frames sent do not count; in a classroom, the engine training or a controller's key press counts for every session)")
	maxSession := fs.Duration("max-session", d.MaxSessionTime, "longest a session may last")
	maxAuthTries := fs.Int("max-auth-tries", d.MaxAuthTries, "failed authentication attempts per connection")
	writeTimeout := fs.Duration("write-timeout", d.WriteTimeout, "cut off a client whose write has not gone through after this long (it stopped reading)")
	fps := fs.Int("fps", d.FPS, "frames per second per session, at most")
	web := fs.String("web", "", "also (or, without --authorized-keys and --open, only) serve the lab to browsers on this address, e.g. :8080")
	webTokens := fs.String("web-tokens", "", "with --web: join tokens, a line TOKEN NAME ROLE (role controller or watcher), re-read on change; without it, links are generated and printed at start")
	webURL := fs.String("web-url", "", "with --web: the links' base as browsers reach the server (https://host[:port], e.g. behind a reverse proxy)")
	tlsCert := fs.String("tls-cert", "", "with --web: serve HTTPS/WSS with this certificate (PEM)")
	tlsKey := fs.String("tls-key", "", "with --web: the certificate's private key (PEM)")
	insecureHTTP := fs.Bool("insecure-http", false, "with --web on a non-loopback address: allow plain HTTP (tokens and frames in clear)")
	shutdown := fs.Duration("shutdown-timeout", 6*time.Second, "on SIGTERM or SIGINT: sessions are told the server is stopping, then closed within this")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text, logfmt, json")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	labCfg, err := build()
	if err != nil {
		return usagef("serve: %v", err)
	}
	var les *lesson.Lesson
	if *lessonArg != "" {
		if les, err = lesson.Find(*lessonArg); err != nil {
			return usagef("serve: --lesson: %v", err)
		}
		if labCfg, err = lab.LessonConfig(les); err != nil {
			return usagef("serve: --lesson: %v", err)
		}
	}
	if *shutdown <= 0 {
		return usagef("serve: --shutdown-timeout %v, want > 0", *shutdown)
	}
	logger, err := newLogger(safetext.NewWriter(stderr), *logLevel, *logFormat)
	if err != nil {
		return usagef("serve: %v", err)
	}
	sshOn := *web == "" || *authKeys != "" || *open || flagGiven(fs, "listen")
	if !sshOn {
		*listen = ""
	}
	cfg := serve.Config{
		WebAddr: *web, WebTokensPath: *webTokens, WebURL: *webURL, TLSCert: *tlsCert, TLSKey: *tlsKey, InsecureHTTP: *insecureHTTP,
		Addr: *listen, HostKeyPath: *hostKey, AuthorizedKeysPath: *authKeys, Open: *open,
		Classroom: *classroom, ControllersPath: *controllers, Lab: labCfg, Lesson: les,
		MaxSessions: *maxSessions, MaxPerKey: *maxPerKey, MaxPerLink: *maxPerLink, MaxEngines: *maxEngines, MaxQueue: *maxQueue,
		HandshakeTimeout: *handshake, IdleTimeout: *idle, MaxSessionTime: *maxSession,
		MaxAuthTries: *maxAuthTries, WriteTimeout: *writeTimeout, FPS: *fps, Logger: logger,
	}
	if err := cfg.Validate(); err != nil {
		return usagef("serve: %v", err)
	}
	srv, err := serve.New(cfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	printJoinLinks(stdout, srv.WebLinks())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case sig := <-sigs:
		logger.Info("signal: stopping", "signal", sig.String(), "timeout", *shutdown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *shutdown)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			logger.Warn("second signal: closing every session now")
			srv.Close()
		case <-ctx.Done():
		}
	}()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: %w", err)
	}
	return <-served
}

// newLogger is the server's structured logger on stderr. The serve package escapes what a
// peer or a key file sends before it logs it; runServe also writes the log through
// safetext.NewWriter, so that nothing a terminal acts on reaches the operator's terminal
// whatever a log line quotes (the price: no colours in the server's log).
func newLogger(w io.Writer, level, format string) (*log.Logger, error) {
	lvl, err := log.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	var f log.Formatter
	switch format {
	case "text":
		f = log.TextFormatter
	case "logfmt":
		f = log.LogfmtFormatter
	case "json":
		f = log.JSONFormatter
	default:
		return nil, fmt.Errorf("--log-format %q: want text, logfmt or json", format)
	}
	return log.NewWithOptions(w, log.Options{Level: lvl, Formatter: f, ReportTimestamp: true, TimeFormat: time.RFC3339}), nil
}

// printJoinLinks prints the generated join links, each with a QR code of it for a
// projector, for the operator (not in the log: they are secrets). The teacher's link
// comes first: show only the ones below it to the class.
func printJoinLinks(w io.Writer, links []serve.JoinLink) {
	for _, l := range links {
		fmt.Fprintf(w, "join as %s (%s): %s\n", l.Name, l.Role, l.URL)
		if l.Role == "controller" {
			continue // not to be shown on a projector
		}
		if q, err := serve.QRText(l.URL); err == nil {
			fmt.Fprint(w, q)
		}
	}
}
