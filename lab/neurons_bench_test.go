package lab

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"sharpflat/lab/train"
)

// neuronsCostSteps is how many steps each engine of BenchmarkNeuronsCost trains: long
// enough for about ten pictures at PictureHz on this machine's slowest preset of the two.
const neuronsCostSteps = 600

// BenchmarkNeuronsCost is what the pictures cost the step rate, the issue's ≤ 5%: engines on
// the moons (regions: the 128×96 grid and the neuron tiles, 32×24 samples a unit) and the
// demo (a projection and the neurons' means per class) train neuronsCostSteps steps each,
// with a subscriber that wants no picture (off), the picture without the neurons (picture),
// and the picture with them (neurons), as a session showing V gets. Each of b.N rounds runs
// the three once, in turn, so that a load that comes and goes weighs on all three alike.
// A mode's cost in a round is 1 − rate/rate(off), in percent: reported as the median over
// the rounds with its min and max, by wall time (what a user sees) and by the process's CPU
// time (user + system, every thread; other processes' turns on the cores do not count, but
// a descheduled helper thread of the step's parallel products does). The rates are over
// all rounds. On a shared machine both differences are at the mercy of the load, so the
// cost is also accounted (%paid-…): the pictures the run painted times the wall time of a
// Paint of its final state (the median of five, timed right after the run, under the same
// load), over the run's wall time. The engine paints on its own goroutine between steps, so
// that is the share of the run the steps waited for the pictures.
//
//	go test -run '^$' -bench BenchmarkNeuronsCost -benchtime 5x ./lab/
func BenchmarkNeuronsCost(b *testing.B) {
	for _, preset := range []string{"moons", "demo"} {
		b.Run(preset, func(b *testing.B) {
			c, err := train.Preset(preset)
			if err != nil {
				b.Fatal(err)
			}
			modes := []struct {
				name    string
				picture bool
				neurons bool
			}{{"off", false, false}, {"picture", true, false}, {"neurons", true, true}}
			wall := make([][]float64, len(modes)) // seconds, by mode and round
			cpu := make([][]float64, len(modes))
			paid := make([][]float64, len(modes)) // percent of the run spent painting
			painted := 0
			for range b.N {
				for i, mode := range modes {
					r := neuronsCostRun(b, c, mode.picture, mode.neurons)
					wall[i], cpu[i] = append(wall[i], r.wall), append(cpu[i], r.cpu)
					paid[i] = append(paid[i], 100*float64(r.pictures)*r.paint/r.wall)
					if mode.neurons {
						painted += r.pictures
					}
				}
			}
			rate := func(i int) float64 { return float64(b.N*neuronsCostSteps) / sumSeconds(wall[i]) }
			b.ReportMetric(rate(0), "steps/s-off")
			b.ReportMetric(rate(1), "steps/s-picture")
			b.ReportMetric(rate(2), "steps/s-neurons")
			for i := 1; i < len(modes); i++ {
				for _, t := range []struct {
					name string
					secs [][]float64
				}{{"wall", wall}, {"cpu", cpu}} {
					costs := make([]float64, b.N)
					for r := range costs {
						costs[r] = 100 * (1 - t.secs[0][r]/t.secs[i][r]) // rate ratio = time(off)/time
					}
					reportSpread(b, costs, "%"+t.name+"-"+modes[i].name)
				}
				reportSpread(b, slices.Clone(paid[i]), "%paid-"+modes[i].name)
			}
			b.ReportMetric(float64(painted)/float64(b.N), "pictures/run")
		})
	}
}

// reportSpread reports the median, the min and the max of xs (sorted in place) as unit-….
func reportSpread(b *testing.B, xs []float64, unit string) {
	slices.Sort(xs)
	b.ReportMetric(xs[len(xs)/2], unit+"-median")
	b.ReportMetric(xs[0], unit+"-min")
	b.ReportMetric(xs[len(xs)-1], unit+"-max")
}

func sumSeconds(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// cpuTime is the CPU time the process has used, user and system, over all its threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// costRun is one engine's run of BenchmarkNeuronsCost.
type costRun struct {
	wall, cpu float64 // seconds
	pictures  int     // distinct pictures the subscriber saw, of the mode asked for
	paint     float64 // seconds a Paint of the final state takes, in this mode (0: off)
}

// neuronsCostRun trains a fresh engine of c for neuronsCostSteps steps with one subscriber
// that reads every snapshot and wants the picture (with or without the neurons) or not, and
// then times a Paint of the engine's final state as the run painted it.
func neuronsCostRun(b *testing.B, c train.Config, picture, neurons bool) costRun {
	b.Helper()
	e, err := New(c, Options{MaxSteps: neuronsCostSteps})
	if err != nil {
		b.Fatal(err)
	}
	if picture && !neurons {
		e.painter = &Painter{noNeurons: true}
	}
	s := e.Subscribe()
	s.WantPicture(picture)
	seen := make(chan int, 1)
	go func() {
		n, last := 0, (*Picture)(nil)
		for snap := range s.C() {
			if p := snap.Picture; p != nil && p != last {
				last = p
				if (p.Neurons != nil) == neurons {
					n++
				}
			}
		}
		seen <- n
	}()
	c0, t0 := cpuTime(b), time.Now()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	r := costRun{wall: time.Since(t0).Seconds(), cpu: (cpuTime(b) - c0).Seconds(), pictures: <-seen}
	if picture {
		p := &Painter{noNeurons: !neurons}
		p.Paint(e.t) // the cache, as the run's first picture filled it
		times := make([]float64, 5)
		for i := range times {
			t := time.Now()
			p.Paint(e.t)
			times[i] = time.Since(t).Seconds()
		}
		slices.Sort(times)
		r.paint = times[len(times)/2]
	}
	return r
}
