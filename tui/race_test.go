package tui

import (
	"fmt"
	"math"
	"sharpflat/lab/train"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
)

// raceView draws snap on a w×h screen (ASCII profile) and returns the lines.
func raceView(t *testing.T, snap lab.Snapshot, w, h int, r *lipgloss.Renderer) []string {
	t.Helper()
	m := New(idleEngine(t), r, Options{})
	defer m.Close()
	mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	mm, _ = mm.Update(snapshotMsg{snap})
	v := mm.View()
	checkScreen(t, v, w, h)
	return strings.Split(ansi.Strip(v), "\n")
}

// TestRaceLooks: the first Dom-SGD, SGD and Bulk-SGD arms keep their glyphs (△ ◇ □, as the
// compared arms of an experiment switch), any other arm takes the first glyph left, and six
// arms have six glyphs and six inks.
func TestRaceLooks(t *testing.T) {
	arms := func(rules ...lab.ArmSpec) []lab.ArmView {
		var out []lab.ArmView
		for _, r := range rules {
			out = append(out, lab.ArmView{Spec: r})
		}
		return out
	}
	glyphs := func(ls []armLook) string {
		var b strings.Builder
		for _, l := range ls {
			b.WriteRune(l.glyph)
		}
		return b.String()
	}
	for _, c := range []struct {
		arms []lab.ArmView
		want string
	}{
		{arms(lab.ArmSpec{Rule: "dom"}, lab.ArmSpec{Rule: "sgd"}, lab.ArmSpec{Rule: "bulk"}), "△◇□"},
		{arms(lab.ArmSpec{Rule: "bulk"}, lab.ArmSpec{Rule: "sgd", LRScale: 2}, lab.ArmSpec{Rule: "sgd"}), "□△◇"},
		{arms(lab.ArmSpec{Rule: "alpha=0.25"}, lab.ArmSpec{Rule: "sgd"}, lab.ArmSpec{Rule: "sgd", K: 20}), "△◇□"},
		{arms(lab.ArmSpec{Rule: "sgd"}, lab.ArmSpec{Rule: "sgd", LRScale: 2}, lab.ArmSpec{Rule: "sgd", LRScale: 4},
			lab.ArmSpec{Rule: "dom"}, lab.ArmSpec{Rule: "bulk", SetMomentum: true}, lab.ArmSpec{Rule: "bulk"}), "◇○☆△◁□"},
	} {
		ls := raceLooks(c.arms)
		if got := glyphs(ls); got != c.want {
			t.Errorf("glyphs %s, want %s", got, c.want)
		}
		inks := map[ink]bool{}
		for _, l := range ls {
			inks[l.ink] = true
		}
		if len(inks) != len(ls) {
			t.Errorf("%s: %d inks for %d arms", glyphs(ls), len(inks), len(ls))
		}
	}
}

// TestRaceNamesEveryArm: at 80×24, 120×40 and 200×60, without colour and with, the screen fits
// its terminal; each line chart's legend names every arm by glyph and name, the table has a
// line an arm with its train loss (the newest point of the arm's history, formatted here
// independently, to 3 significant digits), and the header says which arm has the focus.
func TestRaceNamesEveryArm(t *testing.T) {
	for _, diverged := range []bool{false, true} {
		snap := raceSnapshot(2, diverged)
		if diverged {
			snap = raceSnapshot(0, true)
		}
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			for _, r := range []*lipgloss.Renderer{asciiRenderer(), colorRenderer()} {
				lines := raceView(t, snap, size[0], size[1], r)
				screen := strings.Join(lines, "\n")
				name := fmt.Sprintf("%d×%d diverged %v", size[0], size[1], diverged)
				looks := raceLooks(snap.Race.Arms)
				f := snap.Race.Focus
				if want := fmt.Sprintf("focus %c %s", looks[f].glyph, snap.Race.Arms[f].Name); !strings.Contains(lines[0], want) {
					t.Errorf("%s: header %q does not say %q", name, lines[0], want)
				}
				for i, a := range snap.Race.Arms {
					key := fmt.Sprintf("%c %s", looks[i].glyph, a.Name)
					// The three line charts' legends, and the table.
					if n := strings.Count(screen, key); n < 4 {
						t.Errorf("%s: %q is named %d times, want ≥ 4 (three legends and the table)", name, key, n)
					}
					p, _ := a.History.TrainLoss.Last()
					row := ""
					for _, l := range lines {
						if strings.Contains(l, "loss") {
							continue
						}
						if j := strings.Index(l, string(looks[i].glyph)+" "+a.Name); j >= 0 && strings.Contains(l[j:], fmt.Sprintf(" %.3g ", p.V)) {
							row = l
						}
					}
					if row == "" {
						t.Errorf("%s: no table line of %s with its train loss %.3g", name, a.Name, p.V)
					}
				}
			}
		}
	}
}

// TestRaceSharpnessFelt: each arm's key in the sharpness legend gives its λ₁ and the share of
// its edge its update feels, max(w_dom·λ₁, w_bulk·λ_{k+1}) ÷ (2/η), worked out here from the
// arm's state: λ₁ for Dom-SGD and SGD, λ₁₁ for Bulk-SGD (whose λ₁ is past the edge), and the
// diverged arm at 4η past its own edge 2/(4η), with "!".
func TestRaceSharpnessFelt(t *testing.T) {
	snap := raceSnapshot(0, true)
	lines := raceView(t, snap, 200, 60, asciiRenderer())
	screen := strings.Join(lines, "\n")
	looks := raceLooks(snap.Race.Arms)
	for i, a := range snap.Race.Arms {
		c, b := a.State.Config, a.State.Basis
		felt, name := math.Max(c.WDom*b.Values[0], c.WBulk*b.Next), "λ₁"
		if c.WDom == 0 || c.WBulk*b.Next > c.WDom*b.Values[0] {
			felt, name = c.WBulk*b.Next, "λ₁₁"
		}
		share := felt / (2 / c.LR)
		want := fmt.Sprintf("%c %s %s · %s %s", looks[i].glyph, a.Name, num(b.Values[0], 3), name, pct(share))
		if a.Run == lab.Diverged {
			want = fmt.Sprintf("%c %s ✗ %s · %s %.2f×!", looks[i].glyph, a.Name, num(b.Values[0], 3), name, share)
		}
		if !strings.Contains(screen, want) {
			t.Errorf("the sharpness legend lacks %q", want)
		}
	}
	if share := snap.Race.Arms[2].State.Basis.Values[0] / 20; share < 1 {
		t.Fatalf("the fixture's Bulk-SGD λ₁ is %v of the edge: it should be past it", share)
	}
}

// On minibatches an arm's felt note reads its own λ_d, the update's batch curvature its
// history holds, as the single run's does (Model.batchFelt): Bulk-SGD's λ_d 1.5 × the edge 20
// is 30 → "1.50×!", while the others, without an estimate, keep the full-batch gauge.
func TestRaceFeltUsesArmBatchCurvature(t *testing.T) {
	snap := raceSnapshot(0, false)
	bulk := snap.Race.Arms[2]
	if bulk.State.Config.Batch <= 0 {
		t.Fatalf("the fixture trains on the full batch (%d)", bulk.State.Config.Batch)
	}
	na := train.OptNum(math.NaN())
	m := train.Metrics{Step: 600, Loss: 1, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
		ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
		EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA, BulkTop: na,
		BatchSharpness: 31, BatchSharpnessStderr: 0.5, UpdateSharpness: 30, UpdateSharpnessStderr: 0.4, BatchSharpnessMinibatch: true}
	h := *bulk.History // the arm's own copy: the fixture's histories are its arms'
	h.BatchSharp, h.UpdateSharp, h.FeltBatch = &lab.Series{}, &lab.Series{}, &lab.Series{}
	h.Add(&m)
	snap.Race.Arms[2].History = &h
	screen := strings.Join(raceView(t, snap, 200, 60, asciiRenderer()), "\n")
	looks := raceLooks(snap.Race.Arms)
	if want := fmt.Sprintf("%c Bulk %s · λ_d 1.50×!", looks[2].glyph, num(bulk.State.Basis.Values[0], 3)); !strings.Contains(screen, want) {
		t.Errorf("the sharpness legend lacks %q:\n%s", want, screen)
	}
	if strings.Count(screen, "λ_d") != 1 {
		t.Errorf("λ_d on %d arms' keys, want only Bulk's", strings.Count(screen, "λ_d"))
	}
}

// TestRaceMarksPerArm: a mark belongs to the arm it happened on (its glyph before its label),
// the fork is one mark, and the common past's marks are drawn once.
func TestRaceMarksPerArm(t *testing.T) {
	screen := strings.Join(raceView(t, raceSnapshot(0, true), 200, 60, asciiRenderer()), "\n")
	for _, want := range []string{"┊race", "△↶ 430", "○✗"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no mark %q on the screen", want)
		}
	}
	for _, not := range []string{"◇SGD", "△Dom", "□Bulk"} { // each arm's update mark at the fork
		if strings.Contains(screen, not) {
			t.Errorf("mark %q at the fork: the fork is one mark", not)
		}
	}
	snap := raceSnapshot(0, true)
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	mm, _ := m.Update(snapshotMsg{snap})
	shared, own := mm.(Model).raceMarks(mm.(Model).raceArms())
	if len(shared) != 0 {
		t.Errorf("marks before the fork: %v, want none (the fixture has none)", shared)
	}
	// The fork, Dom's rollback, the ✗ of the diverged arm: the update marks at the fork are
	// left out, Bulk-SGD's α 0.90 at 540 is kept.
	var labels []string
	for _, mk := range own {
		labels = append(labels, mk.label)
	}
	if got, want := strings.Join(labels, ","), "race,○✗,△↶ 430,□α 0.90"; got != want {
		t.Errorf("arm marks %s, want %s", got, want)
	}
}

// TestRaceReflow draws a race of four arms at sizes from 60×18 to 200×60 (a stride of
// them): every frame fits its terminal exactly.
func TestRaceReflow(t *testing.T) {
	snap := raceSnapshot(1, true)
	for w := MinWidth; w <= 200; w += 13 {
		for h := MinHeight; h <= 60; h += 7 {
			raceView(t, snap, w, h, asciiRenderer())
		}
	}
}

// TestRaceShare: y in a race shares a command that races the arms again from the fork, on
// the settings of a plain arm (one whose spec changes no setting but the rule), or else the
// focused arm's with its η multiplier undone; the arms' text is quoted as every value is.
func TestRaceShare(t *testing.T) {
	share := func(snap lab.Snapshot) string {
		m := New(idleEngine(t), asciiRenderer(), Options{})
		defer m.Close()
		mm, _ := m.Update(snapshotMsg{snap})
		mm, _ = mm.Update(typed("y"))
		return mm.(Model).shared
	}
	snap := raceSnapshot(2, false)
	if got, want := share(snap), ShareCommand(snap.Race.Base)+" --race dom,sgd,bulk --race-at 300"; got != want {
		t.Errorf("default race:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(share(snap), "--lr 0.08 ") {
		t.Errorf("the command does not start from the fork's settings (η 0.08): %s", share(snap))
	}
	// Arms of their own η and k: the settings are still the fork's.
	odd := raceSnapshot(0, false)
	odd.Race.Arms = odd.Race.Arms[:2]
	odd.Race.Arms[0].Spec = lab.ArmSpec{Rule: "sgd", LRScale: 2}
	odd.Race.Arms[0].State.Config.LR = 0.2
	odd.Race.Arms[1].Spec = lab.ArmSpec{Rule: "bulk", K: 20}
	if got, want := share(odd), ShareCommand(odd.Race.Base)+" --race 'sgd:lr*2,bulk:k=20' --race-at 300"; got != want {
		t.Errorf("race of arms with settings of their own:\n got %s\nwant %s", got, want)
	}
	// A hostile rule (a lesson file's): every byte kept, nothing a terminal would act on.
	odd.Race.Arms[1].Spec = lab.ArmSpec{Rule: "bulk\x1b[2J'"}
	got := share(odd)
	if !strings.HasSuffix(got, ` --race $'sgd:lr*2,bulk\x1b[2J\x27' --race-at 300`) || strings.ContainsRune(got, 0x1b) {
		t.Errorf("hostile arm: %q", got)
	}
}

// TestRaceTableColumns: the table of the arms keeps its five columns in a narrow panel by
// cutting long names short (not below 4 cells), and leaves out whole columns, from the right,
// only where even that does not fit; no line is wider than the panel.
func TestRaceTableColumns(t *testing.T) {
	snap := raceSnapshot(0, true)
	snap.Race.Arms[3].Name = "SGD η×4 k=20 m=0.9"
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	mm, _ := m.Update(snapshotMsg{snap})
	m = mm.(Model)
	for w := 20; w <= 80; w++ {
		rows := m.raceTable(w)
		for _, r := range rows {
			if n := segsWidth(r); n > w {
				t.Errorf("w %d: a line of %d cells: %v", w, n, r)
			}
		}
		head := rows[0][0].text
		all := strings.Contains(head, "χ")
		// Without names cut: 3 + the longest name (20 with " ✗") + the columns; cut to 4.
		if w >= 38 && !all {
			t.Errorf("w %d: header %q lacks χ", w, head)
		}
		if w < 30 && all {
			t.Errorf("w %d: header %q has every column in too little room", w, head)
		}
	}
}

// TestRaceHostileNames: an arm's name (a lesson file may give it) reaches the terminal
// escaped wherever the race shows it: header, legends, table, marks.
func TestRaceHostileNames(t *testing.T) {
	snap := raceSnapshot(2, false)
	snap.Race.Arms[2].Name = "Bulk\x1b]52;c;aGk=\x07\x1b[2J"
	snap.Race.Arms[2].History.AddMark(lab.Mark{Step: 590, Kind: lab.MarkUpdate, Label: "\x1b[31mα"})
	// The ASCII profile writes no escape of its own: any on the screen would be the name's.
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	mm, _ = mm.Update(snapshotMsg{snap})
	v := mm.View()
	if strings.ContainsAny(v, "\x1b\x07") {
		t.Errorf("a control byte of an arm's name reached the screen: %q", strings.SplitN(v, "\n", 2)[0])
	}
	if !strings.Contains(v, "focus □ Bulk") {
		t.Errorf("the header does not name the focused arm:\n%s", strings.SplitN(v, "\n", 2)[0])
	}
}

// BenchmarkRaceView draws a frame of a race of three arms beside a frame of one run, both at
// 200×60 in true colour, to compare the cost of the race's overlays (the race fixture's
// histories are 600 steps; the one run's too).
//
//	go test ./tui -run '^$' -bench RaceView
func BenchmarkRaceView(b *testing.B) {
	for _, c := range []struct {
		name string
		snap lab.Snapshot
	}{{"one", syntheticSnapshot(600)}, {"race3", raceSnapshot(2, false)}} {
		b.Run(c.name, func(b *testing.B) {
			m := New(idleEngine(b), colorRenderer(), Options{})
			defer m.Close()
			mm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
			mm, _ = mm.Update(snapshotMsg{c.snap})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = mm.View()
			}
		})
	}
}

// The header says when the focused arm has diverged: the race runs on (▶ running), but the
// arm the keys act on has stopped.
func TestRaceHeaderFocusDiverged(t *testing.T) {
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	snap := raceSnapshot(3, true) // arm 3, SGD at 4η, diverged at step 350
	mm, _ := m.Update(snapshotMsg{snap})
	mm, _ = mm.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	head := strings.SplitN(ansi.Strip(mm.(Model).View()), "\n", 2)[0]
	if !strings.Contains(head, "✗ diverged") {
		t.Errorf("the header does not say the focused arm diverged:\n%s", head)
	}
	snap = raceSnapshot(1, true)
	mm, _ = mm.Update(snapshotMsg{snap})
	if head := strings.SplitN(ansi.Strip(mm.(Model).View()), "\n", 2)[0]; strings.Contains(head, "diverged") {
		t.Errorf("the header says diverged with a live arm in focus:\n%s", head)
	}
}
