package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	gossh "golang.org/x/crypto/ssh"
)

// The load test: SHARPFLAT_LOAD=1 go test -run TestLoad -v -timeout 10m ./tui/serve/
//
// The server runs in a child process (this test binary again, in TestLoadServerProcess) so
// that its CPU time and memory are its own; the clients are x/crypto SSH clients in this
// process, on loopback. Scenarios, 30 s each: 30 sessions with an engine each (the demo
// preset, and the demo refreshing every 10 steps), a classroom with one viewer (the
// engine's own cost) and with 100 viewers. It writes LOAD.md.

const loadEnv = "SHARPFLAT_LOAD"

// loadSpec is what the child serves.
type loadSpec struct {
	Classroom bool   `json:"classroom"`
	Sessions  int    `json:"sessions"`
	Keys      string `json:"keys"`
	Log       string `json:"log"`
	HostKey   string `json:"host_key"`
	Refresh   int    `json:"refresh"`  // the engine's refresh period T (0: the preset's)
	Defaults  bool   `json:"defaults"` // keep the default limits (the reconnect flood)
	Tokens    string `json:"tokens"`   // the web door's tokens file ("": no web door)
}

// usage is the child's account of itself: getrusage and the Go heap.
type usage struct {
	UserS, SysS   float64 // getrusage(RUSAGE_SELF)
	MaxRSSKiB     int64   // getrusage ru_maxrss (peak resident set)
	VmHWMKiB      int64   // /proc/self/status VmHWM (the same peak, from the kernel's side)
	HeapInuseMiB  float64 // now
	PeakHeapMiB   float64 // largest HeapInuse seen (sampled every second)
	SysMiB        float64 // memory obtained from the OS by the Go runtime
	NumGC         uint32
	Goroutines    int
	PeakGoroutine int
}

// TestLoadServerProcess is the child: it serves until told "stop" on stdin and answers
// "mark" with a usage line.
func TestLoadServerProcess(t *testing.T) {
	raw := os.Getenv("SHARPFLAT_LOAD_SERVER")
	if raw == "" {
		t.Skip("the load test's server process (started by TestLoad)")
	}
	var spec loadSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	lf, err := os.Create(spec.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cfg := DefaultConfig()
	cfg.HostKeyPath, cfg.AuthorizedKeysPath, cfg.Classroom = spec.HostKey, spec.Keys, spec.Classroom
	if !spec.Defaults {
		cfg.MaxSessions, cfg.MaxEngines, cfg.MaxConns = spec.Sessions+10, spec.Sessions, 2*spec.Sessions+32
	}
	if spec.Refresh > 0 {
		cfg.Lab.RefreshEvery = spec.Refresh
	}
	if spec.Tokens != "" {
		cfg.WebAddr, cfg.WebTokensPath = "127.0.0.1:0", spec.Tokens
	}
	cfg.Logger = log.NewWithOptions(lf, log.Options{Formatter: log.LogfmtFormatter, ReportTimestamp: true, Level: log.DebugLevel})
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	fmt.Printf("ADDR %s\n", ln.Addr())
	if spec.Tokens != "" {
		wln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeWeb(wln)
		fmt.Printf("WEBADDR %s\n", wln.Addr())
	}

	var mu sync.Mutex
	var peakHeap uint64
	peakG := 0
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				mu.Lock()
				peakHeap = max(peakHeap, ms.HeapInuse)
				peakG = max(peakG, runtime.NumGoroutine())
				mu.Unlock()
			}
		}
	}()
	report := func() {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		u := usage{
			UserS: tv(ru.Utime), SysS: tv(ru.Stime), MaxRSSKiB: int64(ru.Maxrss), VmHWMKiB: vmHWM(),
			HeapInuseMiB: mib(ms.HeapInuse), PeakHeapMiB: mib(max(peakHeap, ms.HeapInuse)), SysMiB: mib(ms.Sys),
			NumGC: ms.NumGC, Goroutines: runtime.NumGoroutine(), PeakGoroutine: peakG,
		}
		mu.Unlock()
		b, _ := json.Marshal(u)
		fmt.Printf("USAGE %s\n", b)
	}
	var prof *os.File
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "mark":
			// SHARPFLAT_LOAD_PROFILE=file profiles the server's CPU between the two marks.
			if path := os.Getenv("SHARPFLAT_LOAD_PROFILE"); path != "" {
				if prof == nil {
					prof, _ = os.Create(path)
					pprof.StartCPUProfile(prof)
				} else {
					pprof.StopCPUProfile()
					prof.Close()
				}
			}
			report()
		case "stop":
			close(stop)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
			report()
			return
		}
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// machineBusy is the CPU seconds all processes have used (/proc/stat, USER_HZ = 100).
func machineBusy() float64 {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / 100
}
func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// frameCounter counts a session's frames (each starts by homing the cursor) and their
// bytes, and the longest silence.
type frameCounter struct {
	mu       sync.Mutex
	frames   int
	bytes    int64
	last     time.Time
	maxGap   time.Duration
	carry    []byte // the end of the previous chunk (a marker split across reads)
	counting bool
}

var homeSeq = []byte("\x1b[H")

func (f *frameCounter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := append(f.carry, p...)
	n := strings.Count(string(buf), string(homeSeq))
	now := time.Now()
	if n > 0 {
		if f.counting && !f.last.IsZero() {
			f.maxGap = max(f.maxGap, now.Sub(f.last))
		}
		f.last = now
	}
	if f.counting {
		f.frames += n
		f.bytes += int64(len(p))
	}
	f.carry = append(f.carry[:0], buf[max(0, len(buf)-2):]...)
	return len(p), nil
}

func (f *frameCounter) start() {
	f.mu.Lock()
	f.counting, f.frames, f.bytes, f.maxGap, f.last = true, 0, 0, 0, time.Now()
	f.mu.Unlock()
}

type loadResult struct {
	name                        string
	sessions                    int
	window                      time.Duration
	fpsMin, fpsMed, fpsMax      float64
	maxGap                      time.Duration
	kibPerSession               float64 // KiB/s per session
	serverCPU, clientCPU        float64 // cores (CPU seconds per second)
	otherCPU                    float64 // the rest of the machine's busy time: other processes
	start, end                  usage
	engineStopMax, engineStopMd time.Duration
	engineStepsPerS             float64 // median over engines: steps ÷ the engine's lifetime (server log)
	serverFPS                   float64 // median over sessions: frames written ÷ session length (server log)
}

func TestLoad(t *testing.T) {
	if os.Getenv(loadEnv) == "" {
		t.Skip("set SHARPFLAT_LOAD=1 to run the load test (about 4 minutes)")
	}
	window := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SHARPFLAT_LOAD_WINDOW")); err == nil {
		window = d
	}
	// The two the issue asks for get the full window; the others, which explain them, half.
	scenarios := []struct {
		name   string
		spec   loadSpec
		window time.Duration
	}{
		{"per-session labs (demo preset, max-engines 30)", loadSpec{Sessions: 30}, window},
		{"per-session labs (demo with --refresh 10, max-engines 30)", loadSpec{Sessions: 30, Refresh: 10}, window / 2},
		{"per-session labs, 4 sessions (the default --max-engines here)", loadSpec{Sessions: 4}, window / 2},
		{"classroom baseline (one demo engine, one viewer)", loadSpec{Classroom: true, Sessions: 1}, window / 2},
		{"classroom (one demo engine, 100 viewers)", loadSpec{Classroom: true, Sessions: 100}, window},
	}
	// SHARPFLAT_LOAD_ONLY=i runs scenario i alone, without writing LOAD.md.
	if i, err := strconv.Atoi(os.Getenv("SHARPFLAT_LOAD_ONLY")); err == nil {
		runLoad(t, scenarios[i].name, scenarios[i].spec, scenarios[i].window)
		return
	}
	var results []loadResult
	for _, sc := range scenarios {
		results = append(results, runLoad(t, sc.name, sc.spec, sc.window))
	}
	writeLoadReport(t, results, window)
}

func runLoad(t *testing.T, name string, spec loadSpec, window time.Duration) loadResult {
	dir := t.TempDir()
	spec.Keys, spec.Log, spec.HostKey = filepath.Join(dir, "keys"), filepath.Join(dir, "server.log"), filepath.Join(dir, "host_key")
	keys := make([]gossh.Signer, spec.Sessions)
	pubs := make([]gossh.PublicKey, spec.Sessions)
	for i := range keys {
		keys[i] = newKey(t)
		pubs[i] = keys[i].PublicKey()
	}
	writeKeys(t, spec.Keys, pubs...)

	child := startServerProcess(t, spec)
	defer child.kill()
	addr := child.addr

	counters := make([]*frameCounter, spec.Sessions)
	clients := make([]*gossh.Client, spec.Sessions)
	var wg sync.WaitGroup
	errs := make(chan error, spec.Sessions)
	for i := range spec.Sessions {
		counters[i] = &frameCounter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: fmt.Sprintf("s%d", i),
				Auth: []gossh.AuthMethod{gossh.PublicKeys(keys[i])}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
			sess, err := c.NewSession()
			if err != nil {
				errs <- err
				return
			}
			if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
				errs <- err
				return
			}
			sess.Stdout = counters[i]
			if _, err := sess.StdinPipe(); err != nil { // keep input open
				errs <- err
				return
			}
			if err := sess.Shell(); err != nil {
				errs <- err
			}
		}()
		time.Sleep(20 * time.Millisecond) // a classroom arrives over seconds, not at once
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("connecting: %v", err)
	}
	time.Sleep(5 * time.Second) // warm up: every engine started, first refreshes done

	r := measureWindow(child, counters, window)
	r.name, r.sessions = name, spec.Sessions
	el := r.window
	for i, f := range counters {
		if f.frames == 0 {
			t.Errorf("%s: session %d received no frame in %v", name, i, el)
		}
	}

	// Disconnect everyone at once; the log says how long each engine took to stop.
	for _, c := range clients {
		c.Close()
	}
	time.Sleep(3 * time.Second)
	r.end = child.stop()
	r.engineStopMd, r.engineStopMax = engineStops(t, spec.Log)
	r.engineStepsPerS, r.serverFPS = fromServerLog(t, spec.Log)
	t.Logf("%s: %+v", name, r)
	return r
}

// measureWindow counts the clients' frames over window and the server's and this process's
// CPU and the machine's (everything but the engine-stop and log figures of a loadResult).
func measureWindow(child *serverProcess, counters []*frameCounter, window time.Duration) loadResult {
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	busy0 := machineBusy()
	for _, f := range counters {
		f.start()
	}
	u0 := child.mark()
	t0 := time.Now()
	time.Sleep(window)
	u1 := child.mark()
	el := time.Since(t0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	busy1 := machineBusy()

	r := loadResult{window: el, start: u0, end: u1}
	var fps, kib []float64
	for _, f := range counters {
		f.mu.Lock()
		fps = append(fps, float64(f.frames)/el.Seconds())
		kib = append(kib, float64(f.bytes)/1024/el.Seconds())
		r.maxGap = max(r.maxGap, f.maxGap, time.Since(f.last))
		f.mu.Unlock()
	}
	slices.Sort(fps)
	r.fpsMin, r.fpsMed, r.fpsMax = fps[0], fps[len(fps)/2], fps[len(fps)-1]
	r.kibPerSession = median(kib)
	r.serverCPU = (u1.UserS + u1.SysS - u0.UserS - u0.SysS) / el.Seconds()
	r.clientCPU = (tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)) / el.Seconds()
	r.otherCPU = max(0, (busy1-busy0)/el.Seconds()-r.serverCPU-r.clientCPU)
	return r
}

// serverProcess is the server running in a child process (TestLoadServerProcess).
type serverProcess struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   *bufio.Scanner
	addr    string
	webAddr string // with a tokens file
}

// startServerProcess starts the child serving spec and waits for its address.
func startServerProcess(t testing.TB, spec loadSpec) *serverProcess {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServerProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), "SHARPFLAT_LOAD_SERVER="+string(raw), loadEnv+"=")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{t: t, cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	p.addr = p.next("ADDR")
	if spec.Tokens != "" {
		p.webAddr = p.next("WEBADDR")
	}
	return p
}

// next is the value of the child's next line that starts with prefix.
func (p *serverProcess) next(prefix string) string {
	for p.lines.Scan() {
		if v, ok := strings.CutPrefix(p.lines.Text(), prefix+" "); ok {
			return v
		}
	}
	p.t.Fatalf("the server process ended before %s", prefix)
	return ""
}

// mark asks the child for its usage now.
func (p *serverProcess) mark() usage {
	io.WriteString(p.stdin, "mark\n")
	var u usage
	json.Unmarshal([]byte(p.next("USAGE")), &u)
	return u
}

// stop shuts the child's server down and returns its final usage.
func (p *serverProcess) stop() usage {
	io.WriteString(p.stdin, "stop\n")
	var u usage
	json.Unmarshal([]byte(p.next("USAGE")), &u)
	p.cmd.Wait()
	return u
}

func (p *serverProcess) kill() { p.cmd.Process.Kill() }

var (
	engineStopRe = regexp.MustCompile(`engine_stop=(\S+)`)
	engineRanRe  = regexp.MustCompile(`msg="engine stopped" .*steps=(\d+) .*ran=(\S+)`)
	sessionEndRe = regexp.MustCompile(`msg="session end" .*duration=(\S+) frames=(\d+)`)
)

// fromServerLog reads the engines' steps per second and the sessions' frames per second
// (both medians) from the server's log: what the server did, whatever the clients saw.
func fromServerLog(t *testing.T, path string) (stepsPerS, fps float64) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps, frames []float64
	for _, m := range engineRanRe.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[1])
		if d, err := time.ParseDuration(m[2]); err == nil && d > 0 {
			steps = append(steps, float64(n)/d.Seconds())
		}
	}
	for _, m := range sessionEndRe.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[2])
		if d, err := time.ParseDuration(m[1]); err == nil && d > 0 {
			frames = append(frames, float64(n)/d.Seconds())
		}
	}
	if len(steps) > 0 {
		stepsPerS = median(steps)
	}
	if len(frames) > 0 {
		fps = median(frames)
	}
	return stepsPerS, fps
}

// engineStops reads the server log for how long engines took to stop after their session
// ended.
func engineStops(t *testing.T, path string) (median_, maxD time.Duration) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ds []float64
	for _, m := range engineStopRe.FindAllStringSubmatch(string(b), -1) {
		if d, err := time.ParseDuration(m[1]); err == nil {
			ds = append(ds, d.Seconds())
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return time.Duration(ds[len(ds)/2] * 1e9), time.Duration(ds[len(ds)-1] * 1e9)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeLoadReport(t *testing.T, rs []loadResult, window time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, `# sharpflat serve: load test

Generated by

    SHARPFLAT_LOAD=1 go test -run '^TestLoad$' -v -timeout 10m ./tui/serve/

on %s (%d cores, %s), %s. The server runs in its own process (the test binary
re-executed); the clients are golang.org/x/crypto/ssh clients in the test process, on
loopback, each with a 120×40 xterm-256color PTY and its own key. After a 5 s warm-up the
window lasts %v (half that for the scenarios that only explain the others). Server defaults otherwise: --fps 10, demo preset (per-step refresh of the
top 10). "CPU" is CPU seconds per second of the window (2.0 = both cores), from
getrusage(RUSAGE_SELF) in each process; "other processes" is the rest of the machine's busy
time (/proc/stat): the cores are shared, and this says how much of them the run had; memory from getrusage's ru_maxrss / VmHWM and
runtime.MemStats sampled every second.

| scenario | sessions | window | frames/s per session, client (min / median / max) | frames/s, server (median) | longest gap between frames | KiB/s per session | engine steps/s (median) | server CPU | client CPU | other processes' CPU | server peak RSS | server peak Go heap | goroutines (peak) | engine stop after disconnect (median / max) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
`, time.Now().Format("2006-01-02"), runtime.NumCPU(), runtime.GOARCH, runtime.Version(), window)
	for _, r := range rs {
		stop := "— (shared engine)"
		if r.engineStopMax > 0 {
			stop = fmt.Sprintf("%v / %v", r.engineStopMd.Round(time.Millisecond), r.engineStopMax.Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "| %s | %d | %v | %.1f / %.1f / %.1f | %.1f | %v | %.0f | %.1f | %.2f | %.2f | %.2f | %.0f MiB | %.0f MiB | %d | %s |\n",
			r.name, r.sessions, r.window.Round(time.Second), r.fpsMin, r.fpsMed, r.fpsMax, r.serverFPS, r.maxGap.Round(time.Millisecond), r.kibPerSession, r.engineStepsPerS,
			r.serverCPU, r.clientCPU, r.otherCPU, float64(max(r.end.MaxRSSKiB, r.end.VmHWMKiB))/1024, r.end.PeakHeapMiB, r.end.PeakGoroutine, stop)
	}
	// Hand-written notes below the marker survive a regeneration.
	const marker = "<!-- notes: kept when the test rewrites this file -->"
	notes := "\n" + marker + "\n"
	if old, err := os.ReadFile("LOAD.md"); err == nil {
		if _, after, ok := strings.Cut(string(old), marker); ok {
			notes = "\n" + marker + after
		}
	}
	b.WriteString(notes)
	if err := os.WriteFile("LOAD.md", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
}
