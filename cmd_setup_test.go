package main

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab/train"
	"sharpflat/tui"
)

// flagConfig builds a Config from command-line arguments as run, lab and serve do.
func flagConfig(t *testing.T, args ...string) train.Config {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	c, err := build()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return c
}

// setupKeys turns a script of panel keys into key messages: "up", "down", "left", "right",
// "enter", "esc", "space" by name, anything else typed rune by rune.
func setupKeys(script ...string) []tea.KeyMsg {
	named := map[string]tea.KeyType{"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft,
		"right": tea.KeyRight, "enter": tea.KeyEnter, "esc": tea.KeyEsc, "space": tea.KeySpace}
	var ks []tea.KeyMsg
	for _, s := range script {
		if k, ok := named[s]; ok {
			msg := tea.KeyMsg{Type: k}
			if k == tea.KeySpace {
				msg.Runes = []rune{' '}
			}
			ks = append(ks, msg)
			continue
		}
		for _, r := range s {
			ks = append(ks, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return ks
}

// TestSetupPanelMakesTheFlagsConfig: every setting the setup panel edits, changed in the panel
// (by its arrows and by typed values), gives the Config that the same settings as flags give
// (reflect.DeepEqual); and the command line y shares for it gives it back.
func TestSetupPanelMakesTheFlagsConfig(t *testing.T) {
	demo, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	// The panel opens on "data set" (the row under "start from"); the rows, in order: data set,
	// noise σ, examples, test share, features, hidden, activation, loss, batch, η, momentum β,
	// weight decay, seed, subspace k, Hessian set.
	cases := []struct {
		name   string
		script []string
		flags  []string
	}{
		{"arrows", []string{
			"right", "right", // data: gaussian → moons → spirals
			"down", "right", // noise: spirals' default 0.05 → 0.1
			"down", "left", // examples: 1500 → 1000
			"down", "left", // test share: 1/3 → 0.3
			"down", "right", "right", "right", "right", "space", // features: x₁x₂ on
			"down", "left", // hidden: 16-16 → 16
			"down", "right", // act: tanh → relu
			"down", "right", // loss: ce → mse
			"down", "right", // batch: 32 → 64
			"down", "left", // η: 0.1 → 0.08
			"down", "right", "right", "right", // momentum: 0 → 0.9
			"down", "right", "right", // weight decay: 0 → 3e-4
			"down", "right", // seed: 1 → 2
		}, []string{"--data", "spirals", "--noise", "0.1", "--n", "1000", "--test-frac", "0.3", "--features", "x1,x2,x1x2",
			"--hidden", "16", "--act", "relu", "--loss", "mse", "--batch", "64", "--lr", "0.08", "--momentum", "0.9",
			"--weight-decay", "3e-4", "--seed", "2"}},
		{"typed", []string{
			"right", "right", "right", "right", // data: … → circles → xor
			"down", "0", "enter", // noise: none at all
			"down", "600", "enter",
			"down", "0.25", "enter",
			"down", "right", "right", "space", "right", "right", "space", "left", "left", "left", "space", // features: x₁², x₁x₂ on, x₂ off
			"down", "32-8-4", "enter",
			"down", "down", "down", "0", "enter", // full batch
			"down", "0.0375", "enter",
			"down", "0.3", "enter",
			"down", "0.002", "enter",
			"down", "123456789", "enter",
		}, []string{"--data", "xor", "--noise", "0", "--n", "600", "--test-frac", "0.25", "--features", "x1sq,x1,x1x2",
			"--hidden", "32-8-4", "--batch", "0", "--lr", "0.0375", "--momentum", "0.3", "--weight-decay", "0.002", "--seed", "123456789"}},
		{"no hidden layer", []string{"down", "down", "down", "down", "down", "left", "left"}, []string{"--hidden", "none"}},
		// mnist trains on mnist14 with a Hessian set of 1024; another data set takes the default.
		{"another preset", []string{"up", "right", "down", "right"}, []string{"--preset", "mnist", "--data", "mnist5k", "--hessian-set", "0"}},
		{"from mnist to the moons", []string{"up", "right", "down", "right", "right", "right"}, []string{"--preset", "mnist", "--data", "moons", "--hessian-set", "0"}},
		{"k and the Hessian set", []string{"down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down",
			"left", "left", "down", "right", "right"}, []string{"--k", "6", "--hessian-set", "256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tui.EditSetup(demo, setupKeys(c.script...))
			if err != nil {
				t.Fatalf("the panel refuses: %v", err)
			}
			want := flagConfig(t, c.flags...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the panel made\n%+v\nthe flags %v make\n%+v", got, c.flags, want)
			}
			line := tui.ShareCommand(got)
			args := strings.Fields(strings.TrimPrefix(line, "sharpflat "))
			for i, a := range args { // ShellQuote quotes only what needs it; none of these do
				args[i] = strings.Trim(a, "'")
			}
			if back := flagConfig(t, args...); !reflect.DeepEqual(back, got) {
				t.Errorf("the shared command %q makes\n%+v\nnot the panel's\n%+v", line, back, got)
			}
		})
	}
}

// TestSetupPanelRefuses: a draft that train.New would refuse is refused in the panel, with
// the reason: features on data that is not 2-D, and more memory than the limit.
func TestSetupPanelRefuses(t *testing.T) {
	demo, _ := train.Preset("demo")
	// demo's data is the 20-D Gaussian mixture: x₁² cannot be computed from 20 inputs.
	_, err := tui.EditSetup(demo, setupKeys("down", "down", "down", "down", "right", "right", "space"))
	if err == nil || !strings.Contains(err.Error(), "features") {
		t.Errorf("features on 20-D data: %v, want a refusal naming the features", err)
	}
	train.SetMemoryLimit(1 << 20)
	defer train.SetMemoryLimit(0)
	_, err = tui.EditSetup(demo, setupKeys("down", "down", "down", "down", "down", "4000-4000", "enter"))
	var le *train.LimitError
	if !errors.As(err, &le) {
		t.Errorf("a 4000-4000 net under a 1 MB limit: %v, want the memory refusal", err)
	}
}
