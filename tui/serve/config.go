package serve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/log"

	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// Config is the server's settings. Start from DefaultConfig and change what you need.
type Config struct {
	// Addr is the TCP address the SSH door listens on (ListenAndServe); "" for no SSH (the
	// web door alone: then no host key or authorized keys are needed).
	Addr string
	// HostKeyPath is the server's private key; an ed25519 key is generated there (mode 0600)
	// if the file does not exist. An existing key readable by group or others is refused.
	HostKeyPath string
	// AuthorizedKeysPath lists the public keys that may log in (OpenSSH authorized_keys
	// format, with the options of keyopts.go); it is re-read when it changes. Required
	// unless Open.
	AuthorizedKeysPath string
	// Open lets anyone in: any public key the client proves (its identity), or anonymously
	// through keyboard-interactive without prompts. Logged as a warning.
	Open bool

	// Classroom shares one engine among all sessions; keys in ControllersPath steer it (and
	// may log in, without being repeated in AuthorizedKeysPath) and every other session
	// watches read-only.
	Classroom       bool
	ControllersPath string

	// Lab is the engine configuration: every per-session engine, or the classroom's engine.
	Lab train.Config
	// Lesson, if set, is played by the classroom's engine (its controllers step it, everyone
	// sees the same step), or by every session's own engine. Lab should be
	// lab.LessonConfig's.
	Lesson *lesson.Lesson

	// The web door (web.go): WebAddr is its TCP address ("" none). WebTokensPath lists the
	// join tokens (webtokens.go); "" generates links at start (WebLinks): with Classroom a
	// controller's and a watcher's, else one for a lab of one's own. WebURL is the links'
	// base (scheme://host[:port], as a browser reaches the server, e.g. through a reverse
	// proxy; default from WebAddr). TLSCert and TLSKey serve HTTPS and WSS; plain HTTP on a
	// non-loopback address needs InsecureHTTP.
	WebAddr         string
	WebTokensPath   string
	WebURL          string
	TLSCert, TLSKey string
	InsecureHTTP    bool

	MaxSessions int // sessions at once, in all
	MaxPerKey   int // sessions at once per identity (key, or source address if anonymous)
	MaxPerLink  int // sessions at once per shared watcher link and source address (0: MaxSessions): a class behind one NAT shares it
	MaxEngines  int // per-session mode: engines training at once
	MaxQueue    int // per-session mode: sessions waiting for an engine (0: refuse when full)
	MaxConns    int // TCP connections at once, authenticated or not (0: MaxSessions + 32)
	MaxPreauth  int // of those, not yet authenticated (0: MaxConns/2, at most 64); see preauth.go

	HandshakeTimeout time.Duration // from accept to a running session (also: a connection with no session)
	IdleTimeout      time.Duration // since the last key press (a classroom's watcher: or the engine trained, or a controller pressed a key; see session.idleSince)
	MaxSessionTime   time.Duration // a session's whole length
	MaxAuthTries     int           // failed authentication attempts per connection
	WriteTimeout     time.Duration // a write to a client that takes longer cuts the client off
	FPS              int           // frames per second per session at most

	// Logger receives structured logs (connections, authentication, sessions, limits).
	// Nil: log.Default().
	Logger *log.Logger

	hooks hooks // tests only
}

// hooks let tests reach inside a session.
type hooks struct {
	engineStarted func(user string, e *lab.Engine) // a session's engine (or the classroom's) starts
	key           func(user string, k tea.KeyMsg)  // called in Update for every key
	bgTimeout     time.Duration                    // background-colour query (default bgQueryTimeout)
	conn          func(c net.Conn)                 // every accepted connection
	stopWait      time.Duration                    // a session's wait for its engine (default engineStopWait)
	writeTimeout  func(user string) time.Duration  // a session's output timeout (0: WriteTimeout); a test stalls one session, not the healthy ones
	stopNotice    time.Duration                    // Shutdown's notice to sessions (0: half its context's time left): a test waits for the drain, not for a deadline

	// The clock of the idle timeout and the session length, so that a test moves time
	// instead of waiting for it: now is the time (default time.Now), tick the supervisor's
	// checks of one session (called once per session before its program starts; default a
	// ticker). A tick's value is not read: the check takes now.
	now  func() time.Time
	tick func(done <-chan struct{}) <-chan time.Time
}

// DefaultHostKeyPath is where the host key lives unless told otherwise:
// $XDG_CONFIG_HOME/sharpflat/ssh_host_ed25519_key (or the platform's equivalent).
func DefaultHostKeyPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "sharpflat_host_ed25519_key"
	}
	return filepath.Join(dir, "sharpflat", "ssh_host_ed25519_key")
}

// DefaultConfig returns the defaults: listen on :2222, demo preset, per-session labs,
// authentication required.
func DefaultConfig() Config {
	cfg, _ := train.Preset("demo")
	return Config{
		Addr:             ":2222",
		HostKeyPath:      DefaultHostKeyPath(),
		Lab:              cfg,
		MaxSessions:      100,
		MaxPerKey:        3,
		MaxEngines:       2 * runtime.NumCPU(),
		MaxQueue:         20,
		HandshakeTimeout: 20 * time.Second,
		IdleTimeout:      15 * time.Minute,
		MaxSessionTime:   3 * time.Hour,
		MaxAuthTries:     6, // OpenSSH's default: a client with several keys tries them in turn
		WriteTimeout:     10 * time.Second,
		FPS:              10,
	}
}

// Validate checks the settings (its errors name the command-line flags) and fills the
// derived ones. New calls it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	ssh := c.Addr != ""
	switch {
	case !ssh && c.WebAddr == "":
		bad("nothing to listen on: give an SSH address or --web ADDR")
	case ssh && c.Open && c.AuthorizedKeysPath != "":
		bad("--open and --authorized-keys together: --open lets every key in")
	case ssh && !c.Open && c.AuthorizedKeysPath == "":
		bad("no --authorized-keys FILE: give one, or --open to let anyone in")
	}
	if c.Classroom && c.Lesson != nil && c.ControllersPath == "" && c.WebAddr == "" {
		bad("--lesson in a classroom needs --controllers: someone must step it")
	}
	if c.WebAddr != "" {
		switch {
		case (c.TLSCert == "") != (c.TLSKey == ""):
			bad("--tls-cert and --tls-key go together")
		case c.TLSCert == "" && !c.InsecureHTTP && !isLoopback(c.WebAddr):
			bad("--web %s without TLS: give --tls-cert and --tls-key, or --insecure-http to send join tokens and the lab in clear on the network", c.WebAddr)
		}
	} else if c.WebTokensPath != "" || c.TLSCert != "" || c.TLSKey != "" || c.InsecureHTTP || c.WebURL != "" {
		bad("--web-tokens, --web-url, --tls-cert, --tls-key and --insecure-http are for --web")
	}
	if c.ControllersPath != "" && !c.Classroom {
		bad("--controllers is for --classroom")
	}
	if ssh && c.HostKeyPath == "" {
		bad("no host key path")
	}
	if c.MaxSessions < 1 {
		bad("--max-sessions %d, want ≥ 1", c.MaxSessions)
	}
	if c.MaxPerKey < 1 {
		bad("--max-per-key %d, want ≥ 1", c.MaxPerKey)
	}
	if c.MaxPerLink == 0 {
		c.MaxPerLink = c.MaxSessions
	}
	if c.MaxPerLink < 1 {
		bad("--max-per-link %d, want ≥ 1", c.MaxPerLink)
	}
	if !c.Classroom && c.MaxEngines < 1 {
		bad("--max-engines %d, want ≥ 1", c.MaxEngines)
	}
	if c.MaxQueue < 0 {
		bad("--max-queue %d, want ≥ 0", c.MaxQueue)
	}
	if c.MaxConns == 0 {
		c.MaxConns = c.MaxSessions + 32
	}
	if c.MaxConns < 1 {
		bad("max connections %d, want ≥ 1", c.MaxConns)
	}
	if c.MaxPreauth == 0 {
		c.MaxPreauth = max(1, min(64, c.MaxConns/2))
	}
	if c.MaxPreauth < 1 {
		bad("max pre-auth connections %d, want ≥ 1", c.MaxPreauth)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--handshake-timeout", c.HandshakeTimeout}, {"--idle-timeout", c.IdleTimeout},
		{"--max-session", c.MaxSessionTime}, {"--write-timeout", c.WriteTimeout}} {
		if d.v <= 0 {
			bad("%s %v, want > 0", d.name, d.v)
		}
	}
	if c.MaxAuthTries < 1 {
		bad("--max-auth-tries %d, want ≥ 1", c.MaxAuthTries)
	}
	if c.FPS < 1 || c.FPS > 60 {
		bad("--fps %d, want 1…60", c.FPS)
	}
	if err := c.Lab.Validate(); err != nil {
		bad("lab config: %v", err)
	}
	if c.Logger == nil {
		c.Logger = log.Default()
	}
	if c.hooks.bgTimeout == 0 {
		c.hooks.bgTimeout = bgQueryTimeout
	}
	if c.hooks.stopWait == 0 {
		c.hooks.stopWait = engineStopWait
	}
	return errors.Join(errs...)
}

// discardLogger is a logger that writes nothing (tests).
func discardLogger() *log.Logger { return log.New(io.Discard) }
