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

// BenchmarkThroughput trains for b.N steps headless and with the lab open on a 200×60
// terminal (a real program: snapshots at 20 Hz, a View per snapshot, output discarded), and
// reports steps/s. The issue asks for ≥ 90% of headless with the UI. Steps are slow, so
// give it a fixed count and repeat to see the noise:
//
//	go test ./tui -run '^$' -bench Throughput -benchtime 300x -count 3
func BenchmarkThroughput(b *testing.B) {
	for _, preset := range []string{"demo", "fast"} {
		for _, ui := range []bool{false, true} {
			name := preset + "/headless"
			if ui {
				name = preset + "/ui"
			}
			b.Run(name, func(b *testing.B) {
				cfg, err := lab.Preset("demo")
				if err != nil {
					b.Fatal(err)
				}
				if preset == "fast" {
					cfg = fastConfig(b)
				}
				e, err := lab.New(cfg, lab.Options{MaxSteps: b.N})
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
				b.ResetTimer()
				t0 := time.Now()
				if err := e.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "steps/s")
				b.StopTimer()
				if ui {
					p.Quit()
					<-done
				}
			})
		}
	}
}
