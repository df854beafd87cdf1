package tui

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// BenchmarkView draws a full frame from a snapshot with full histories (1024 points a
// series, k = 10). Target: ≤ 5 ms at 200×60 in true colour.
//
//	go test ./tui -run '^$' -bench View
func BenchmarkView(b *testing.B) {
	snap := syntheticSnapshot(5000)
	for _, prof := range []struct {
		name string
		r    *lipgloss.Renderer
	}{{"truecolor", colorRenderer()}, {"ascii", asciiRenderer()}} {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			b.Run(fmt.Sprintf("%s/%dx%d", prof.name, size[0], size[1]), func(b *testing.B) {
				m := New(idleEngine(b), prof.r, Options{})
				defer m.Close()
				mm, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				mm, _ = mm.Update(snapshotMsg{snap})
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					_ = mm.View()
				}
			})
		}
	}
}

// BenchmarkThroughput trains the same number of steps headless and with the lab open on a
// 200×60 terminal (a real program: snapshots at 20 Hz, a View per snapshot, true colour,
// output discarded), alternating the two so that drift in the machine's load hits both, and
// reports steps/s of each and their ratio. The issue asks for ui/headless ≥ 0.9.
//
//	go test ./tui -run '^$' -bench Throughput -benchtime 5x
func BenchmarkThroughput(b *testing.B) {
	for _, preset := range []struct {
		name  string
		steps int
	}{{"demo", 150}, {"fast", 600}} {
		b.Run(preset.name, func(b *testing.B) {
			cfg, err := train.Preset("demo")
			if err != nil {
				b.Fatal(err)
			}
			if preset.name == "fast" {
				cfg = fastConfig(b)
			}
			var spent [2]time.Duration // headless, ui
			for i := 0; i < b.N; i++ {
				for j := 0; j < 2; j++ {
					ui := (i+j)%2 == 1
					d := trainTimed(b, cfg, preset.steps, ui)
					if ui {
						spent[1] += d
					} else {
						spent[0] += d
					}
				}
			}
			n := float64(b.N * preset.steps)
			b.ReportMetric(n/spent[0].Seconds(), "headless-steps/s")
			b.ReportMetric(n/spent[1].Seconds(), "ui-steps/s")
			b.ReportMetric(spent[0].Seconds()/spent[1].Seconds(), "ui/headless")
		})
	}
}

// trainTimed trains a fresh engine for steps steps, with or without a program watching it,
// and returns the time the steps took.
func trainTimed(b *testing.B, cfg train.Config, steps int, ui bool) time.Duration {
	e, err := lab.New(cfg, lab.Options{MaxSteps: steps})
	if err != nil {
		b.Fatal(err)
	}
	var p *tea.Program
	done := make(chan struct{})
	if ui {
		m := New(e, colorRenderer(), Options{})
		defer m.Close()
		p = tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
		go func() {
			defer close(done)
			if _, err := p.Run(); err != nil {
				b.Error(err)
			}
		}()
		p.Send(tea.WindowSizeMsg{Width: 200, Height: 60})
	}
	t0 := time.Now()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	d := time.Since(t0)
	if ui {
		p.Quit()
		<-done
	}
	return d
}
