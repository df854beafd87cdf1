package main

// sharpflat bench --cpuprofile: a CPU profile of the timed part of a benchmark, for `go tool
// pprof`, so that a figure in BENCHMARKS.md can come with where its time went.

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profiler writes a CPU profile to its file between start and stop. With an empty path every
// method does nothing.
type profiler struct {
	path    string
	f       *os.File
	running bool
}

// open creates the file, before anything is measured, so that a bad path fails at once.
func (p *profiler) open() error {
	if p.path == "" {
		return nil
	}
	f, err := os.Create(p.path)
	if err != nil {
		return fmt.Errorf("bench: --cpuprofile: %w", err)
	}
	p.f = f
	return nil
}

func (p *profiler) start() error {
	if p.f == nil {
		return nil
	}
	if err := pprof.StartCPUProfile(p.f); err != nil {
		return fmt.Errorf("bench: --cpuprofile %s: %w", p.path, err)
	}
	p.running = true
	return nil
}

// stop ends the profile and closes the file; it may be called more than once (deferred as
// well, for the error paths). A file no profile was written to is removed.
func (p *profiler) stop() error {
	if p.f == nil {
		return nil
	}
	profiled := p.running
	if p.running {
		pprof.StopCPUProfile()
		p.running = false
	}
	err := p.f.Close()
	p.f = nil
	if !profiled {
		os.Remove(p.path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench: --cpuprofile %s: %w", p.path, err)
	}
	return nil
}
