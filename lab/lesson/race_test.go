package lesson

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"sharpflat/internal/safetext"
	"sharpflat/lab/train"
)

// raceLesson races from its second step on, through a third, ends the race in a fourth and
// starts afresh with another race in a fifth.
const raceLesson = `title  = "Race"
preset = "demo"

[[step]]
caption = "Warm up."
until   = { steps = 100 }

[[step]]
caption = "Three from here."
do      = { alpha = 0.5, race = ["Dom", " sgd ", "alpha=1"] }
until   = { metric = "train_loss@bulk", below = 0.3 }
expect  = [
  { metric = "train_loss@bulk", below = "train_loss@dom" },
  { metric = "train_loss@ALPHA=0.5", above = "train_loss@bulk" },
  { metric = "train_loss@dom", falls_by = 0.5 },
  { metric = "loss", below = 1 },
]

[[step]]
caption = "On."
until   = { steps = 50 }
expect  = [ { metric = "sharpness@bulk", below = "edge@bulk" } ]

[[step]]
caption = "The end of the race: the lab's run goes on."
do      = { race = [], lr = 0.1 }
until   = { steps = 5 }

[[step]]
caption = "Afresh."
do      = { reset = true, race = ["sgd", "sgd:lr*2", "bulk:k=20:m=0.9"] }
until   = { steps = 5 }
expect  = [ { metric = "train_loss@sgd:lr*2.0", below = "train_loss@sgd" } ]
`

func TestParseRace(t *testing.T) {
	l, err := Parse("race.toml", []byte(raceLesson))
	if err != nil {
		t.Fatal(err)
	}
	races := [][]string{nil, {"dom", "sgd", "bulk"}, nil, {}, {"sgd", "sgd:lr*2", "bulk:k=20:m=0.9"}}
	for i, want := range races {
		if got := l.Steps[i].Do.Race; !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("step %d: race %#v, want %#v", i+1, got, want)
		}
	}
	if got := l.Steps[1].Until.Metric; got != "train_loss@bulk" {
		t.Errorf("until.metric %q", got)
	}
	want := []Expect{
		{Metric: "train_loss@bulk", BelowMetric: "train_loss@dom", Line: 13},
		{Metric: "train_loss@sgd", AboveMetric: "train_loss@bulk", Line: 14}, // alpha=0.5 is SGD
		{Metric: "train_loss@dom", FallsBy: ptr(0.5), Line: 15},
		{Metric: "loss", Below: ptr(1.0), Line: 16},
	}
	if !reflect.DeepEqual(l.Steps[1].Expect, want) {
		t.Errorf("claims\n%s\nwant\n%s", dump(&Lesson{Steps: []Step{{Expect: l.Steps[1].Expect}}}), dump(&Lesson{Steps: []Step{{Expect: want}}}))
	}
	if got := l.Steps[4].Expect[0]; got.Metric != "train_loss@sgd:lr*2" || got.BelowMetric != "train_loss@sgd" {
		t.Errorf("step 5's claim %+v", got)
	}
	if got := Describe(l.Steps[1].Expect[0]); got != "train_loss@bulk below train_loss@dom" {
		t.Errorf("Describe: %q", got)
	}
}

// The arms are read as the lab reads them (lab.ParseArm) and written as it writes them
// (ArmSpec.String), by hand from its grammar: RULE[:lr*X][:k=N][:m=B].
func TestCanonicalArm(t *testing.T) {
	for in, want := range map[string]string{
		"dom": "dom", " Bulk ": "bulk", "alpha=0": "dom", "alpha=0.5": "sgd", "alpha=0.25": "alpha=0.25",
		"w=1/0": "dom", "w=2/1": "w=2/1", "sgd:lr*1": "sgd", "sgd:lr*2.50": "sgd:lr*2.5",
		"bulk:m=0.9:k=20": "bulk:k=20:m=0.9", "dom: lr*0.5 :k=3": "dom:lr*0.5:k=3", "sgd:m=0": "sgd:m=0",
	} {
		if got, err := CanonicalArm(in); err != nil || got != want {
			t.Errorf("CanonicalArm(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":              "no update rule",
		"adam":          `update rule "adam"`,
		"alpha=2":       "in [0, 1]",
		"sgd:lr*0":      "lr*0: want a multiplier of η in (0, 100]",
		"sgd:lr*101":    "(0, 100]",
		"sgd:lr*NaN":    "(0, 100]",
		"sgd:k=0":       "k=0: want a whole number from 1 to 100",
		"sgd:k=101":     "from 1 to 100",
		"sgd:m=1":       "m=1: want a momentum β in [0, 0.999]",
		"sgd:k=2:k=3":   `"k" is given twice`,
		"sgd:eta=2":     `"eta=2": want lr*X, k=N or m=B`,
		"sgd:":          `"": want lr*X, k=N or m=B`,
		"sgd:lr*2:lr*3": `"lr*" is given twice`,
	} {
		if got, err := CanonicalArm(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("CanonicalArm(%q) = %q, %v; want an error with %q", in, got, err, msg)
		}
	}
}

func TestParseRaceErrors(t *testing.T) {
	race := head + "do.race = [\"dom\", \"bulk\"]\nuntil.steps = 1\n" // a race from line 5 on
	next := "[[step]]\ncaption = \"n\"\n"                             // a step after it (line 7)
	tests := []parseErrorCase{
		{"race not an array", head + "do.race = \"dom,bulk\"", 5, 11, "step[1].do.race", `expected an array of arms (race = ["dom", "sgd", "bulk"]), got a string`},
		{"arm not a string", head + "do.race = [\"dom\", 1]", 5, 19, "step[1].do.race[2]", "expected a string (an arm such as"},
		{"arm unknown", head + "do.race = [\"dom\", \"adam\"]", 5, 19, "step[1].do.race[2]", `arm "adam": update rule "adam"`},
		{"arm twice", head + "do.race = [\"dom\", \"alpha=0\"]", 5, 19, "step[1].do.race[2]", `arm "alpha=0" is arm 1 (dom) again`},
		{"one arm", head + "do.race = [\"dom\"]", 5, 12, "step[1].do.race", "one arm is not a race"},
		{"seven arms", head + "do.race = [\"dom\", \"sgd\", \"bulk\", \"alpha=0.25\", \"alpha=0.75\", \"w=2/1\", \"w=1/2\"]", 5, 71, "step[1].do.race[7]", "too many arms (a race has at most 6)"},
		{"bad modifier", head + "do.race = [\"dom\", \"sgd:k=0\"]", 5, 19, "step[1].do.race[2]", "k=0: want a whole number from 1 to 100"},
		{"arm without race", head + "until = { metric = \"train_loss@bulk\", below = 1 }", 5, 20, "step[1].until.metric", "names the arm bulk, but no race runs in this step (start one with do.race)"},
		{"arm not in race", race + "expect = [ { metric = \"loss@sgd\", below = 1 } ]", 7, 23, "step[1].expect[1].metric", "no arm sgd in the race (its arms: dom, bulk)"},
		{"arm not in race, close", race + "expect = [ { metric = \"loss@buk\", below = 1 } ]", 7, 23, "step[1].expect[1].metric", `"buk" after @ is not an arm`},
		{"compare arm not in race", race + "expect = [ { metric = \"loss@dom\", below = \"loss@alpha=0.25\" } ]", 7, 43, "step[1].expect[1].below", "no arm alpha=0.25 in the race"},
		{"unknown metric before @", race + "expect = [ { metric = \"trainloss@dom\", below = 1 } ]", 7, 23, "step[1].expect[1].metric", `unknown metric "trainloss" (did you mean "train_loss"?`},
		{"chi_random of an arm", race + "expect = [ { metric = \"chi_random@dom\", below = 1 } ]", 7, 23, "step[1].expect[1].metric", "chi_random is √(k/P) of the lab's run, not measured per arm"},
		{"compare with itself", race + "expect = [ { metric = \"loss@dom\", below = \"loss@alpha=0\" } ]", 7, 43, "step[1].expect[1].below", "compares loss@dom with itself"},
		{"compare and a number", race + "expect = [ { metric = \"loss@dom\", below = \"loss@bulk\", above = 0 } ]", 7, 56, "step[1].expect[1].above", "cannot be used with below (a comparison with another metric states one relation)"},
		{"compare throughout", race + "expect = [ { metric = \"loss@dom\", below = \"loss@bulk\", throughout = true } ]", 7, 56, "step[1].expect[1].throughout", "only with a number in above or below"},
		{"compare with unknown", race + "expect = [ { metric = \"loss@dom\", below = \"losss@bulk\" } ]", 7, 43, "step[1].expect[1].below", `unknown metric "losss"`},
		{"until compares", race + "until.metric = \"loss@dom\"\nuntil.below = \"loss@bulk\"", 8, 15, "step[1].until.below", "expected a number, got a string"},
		{"settings during a race", race + next + "do.lr = 0.5\nuntil.steps = 1", 9, 4, "step[2].do.lr", "cannot be used while the race started by the step at line 3 runs"},
		{"rollback during a race", race + next + "do = { pause = true, rollback = true }", 9, 22, "step[2].do.rollback", "end it first with race = []"},
		{"arm after the race ended", race + next + "do.race = []\nuntil.steps = 1\nexpect = [ { metric = \"loss@dom\", below = 1 } ]", 11, 23, "step[2].expect[1].metric", "names the arm dom, but no race runs in this step"},
		{"arm after a fresh start", race + next + "do.reset = true\nuntil.steps = 1\nexpect = [ { metric = \"loss@dom\", below = 1 } ]", 11, 23, "step[2].expect[1].metric", "no race runs in this step"},
		{"arm of the earlier race", race + next + "do.race = [\"sgd\", \"bulk\"]\nuntil.steps = 1\nexpect = [ { metric = \"loss@dom\", below = 1 } ]", 11, 23, "step[2].expect[1].metric", "no arm dom in the race (its arms: sgd, bulk)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkParseError(t, tc) })
	}
	// What a race allows: a step through it that pauses or only trains, and settings in the
	// step that ends it or starts another (the race ends before they apply).
	for _, doc := range []string{
		race + next + "do.pause = true",
		race + next + "until.steps = 3\nexpect = [ { metric = \"loss@dom\", below = \"loss@bulk\" } ]",
		race + next + "do = { race = [], lr = 0.5, rollback = true }",
		race + next + "do = { race = [\"sgd\", \"bulk\"], lr = 0.5, checkpoint = true }",
		race + next + "do = { preset = \"demo\", lr = 0.5 }",
	} {
		if _, err := Parse("x.toml", []byte(doc)); err != nil {
			t.Errorf("%v\n%s", err, doc)
		}
	}
}

// Hostile arms: control characters in an arm or after @ are refused with the field, the
// message escaped; absurdly long or nested input is refused without echoing it whole.
func TestParseRaceHostile(t *testing.T) {
	for _, h := range safetext.Hostile() {
		for _, tc := range []struct{ field, doc string }{
			{"step[1].do.race[2]", head + "do.race = [\"dom\", " + tomlBasic("bulk"+h) + "]"},
			{"step[1].until.metric", head + "do.race = [\"dom\", \"bulk\"]\nuntil = { metric = " + tomlBasic("loss@"+h) + ", below = 1 }"},
			{"step[1].expect[1].below", head + "do.race = [\"dom\", \"bulk\"]\nuntil.steps = 1\nexpect = [ { metric = \"loss@dom\", below = " + tomlBasic("loss@bulk"+h) + " } ]"},
		} {
			_, err := Parse("x.toml", []byte(tc.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s %q: %v, want an *Error", tc.field, h, err)
				continue
			}
			if safetext.Executable(err.Error()) || (!strings.Contains(e.Msg, "syntax error") && e.Field != tc.field) {
				t.Errorf("%s %q: %q", tc.field, h, err)
			}
		}
	}
	long := strings.Repeat("w=1/1:", 10000) + "lr*2"
	_, err := Parse("x.toml", []byte(head+"do.race = [\"dom\", \""+long+"\"]"))
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("a 60 kB arm: %d bytes of error (%.200v…)", len(err.Error()), err)
	}
	_, err = Parse("x.toml", []byte(head+"do.race = [\"dom\", [[[\"bulk\"]]]]"))
	if e := (*Error)(nil); !errors.As(err, &e) || e.Field != "step[1].do.race[2]" {
		t.Errorf("nested arrays: %v", err)
	}
}

// armMetrics is a step's metrics with the minibatch and train losses v (NaN: not measured).
func armMetrics(loss, trainLoss float64) *train.Metrics { return metricsWith(loss, trainLoss) }

// Claims on arms and between arms, judged by hand. The lab's run is at train_loss 2 when the
// race forks; over three rounds Dom's train loss goes 2 → 1.9 (−5%), Bulk's 2 → 1.2 → 1 (−50%),
// SGD's is measured at the first round only; Bulk stops (diverged) after two rounds.
func TestTrackerJudgesArms(t *testing.T) {
	tr := NewTracker()
	tr.Observe(armMetrics(3, 2))
	tr.ObserveArm("dom", armMetrics(9, 9)) // an earlier race's arm: StartRace drops it
	tr.Begin()
	arms := []string{"dom", "sgd", "bulk"}
	tr.StartRace(arms)
	if v := tr.Value("train_loss@bulk"); v != 2 {
		t.Errorf("Bulk's train loss at the fork %v, want the run's 2", v)
	}
	rounds := []map[string]*train.Metrics{
		{"dom": armMetrics(2.1, math.NaN()), "sgd": armMetrics(1.5, 1.5), "bulk": armMetrics(1.4, 1.2)},
		{"dom": armMetrics(2.0, math.NaN()), "sgd": armMetrics(1.4, math.NaN()), "bulk": armMetrics(0.5, 1)},
		{"dom": armMetrics(1.9, 1.9), "sgd": armMetrics(1.3, math.NaN())}, // Bulk stopped
	}
	for _, r := range rounds {
		for _, a := range arms {
			if m, ok := r[a]; ok {
				tr.ObserveArm(a, m)
			}
		}
		tr.Observe(r["dom"]) // the focused arm is the lab's run
	}
	if tr.Steps() != 3 {
		t.Errorf("%d steps, want 3 rounds", tr.Steps())
	}
	cases := []struct {
		e    Expect
		want Verdict
		text string
	}{
		{Expect{Metric: "train_loss@bulk", BelowMetric: "train_loss@dom"}, Holds, "train_loss@bulk 1, train_loss@dom 1.9"},
		{Expect{Metric: "train_loss@bulk", AboveMetric: "train_loss@dom"}, Fails, ""},
		{Expect{Metric: "train_loss@sgd", BelowMetric: "train_loss@dom"}, Holds, "train_loss@sgd 1.5, train_loss@dom 1.9"}, // SGD's last measured value
		{Expect{Metric: "loss@bulk", BelowMetric: "loss@sgd"}, Holds, "loss@bulk 0.5, loss@sgd 1.3"},                       // Bulk's last before it stopped
		{Expect{Metric: "train_loss@bulk", FallsBy: f64(0.5)}, Holds, "train_loss@bulk 2 → 1 (-50.0%)"},                    // from the fork
		{Expect{Metric: "train_loss@dom", Within: f64(0.051)}, Holds, ""},                                                  // −5%
		{Expect{Metric: "train_loss@dom", Within: f64(0.049)}, Fails, ""},
		{Expect{Metric: "train_loss", FallsBy: f64(0.05)}, Holds, ""}, // the lab's run is Dom: 2 → 1.9
		{Expect{Metric: "loss@sgd", Below: f64(1.6), Throughout: true}, Holds, ""},
		{Expect{Metric: "loss@dom", Below: f64(2.05), Throughout: true}, Fails, ""}, // 2.1 in the first round
		{Expect{Metric: "test_loss@dom", BelowMetric: "train_loss@dom"}, Fails, "test_loss@dom was not measured"},
		{Expect{Metric: "train_loss@dom", BelowMetric: "test_loss@bulk"}, Fails, "test_loss@bulk was not measured during the step"},
	}
	for _, c := range cases {
		got, text := tr.Check(c.e, true)
		if got != c.want || (c.text != "" && text != c.text) {
			t.Errorf("%s: %v (%s), want %v (%s)", Describe(c.e), got, text, c.want, c.text)
		}
	}
	if got, _ := tr.Check(Expect{Metric: "train_loss@bulk", BelowMetric: "train_loss@dom"}, false); got != Open {
		t.Errorf("a comparison before the step ends: %v, want open", got)
	}
	if met, _ := tr.Met(Until{Metric: "train_loss@bulk", Below: f64(1.1)}); !met {
		t.Error("until train_loss@bulk < 1.1 is not met at 1")
	}
	if met, _ := tr.Met(Until{Metric: "train_loss@dom", Below: f64(1.1)}); met {
		t.Error("until train_loss@dom < 1.1 is met at 1.9")
	}
	// A clone is independent; a new race forgets the old one's arms.
	c := tr.Clone()
	tr.Begin()
	tr.StartRace([]string{"sgd", "bulk:lr*2"})
	if !math.IsNaN(tr.Value("train_loss@dom")) || tr.Value("train_loss@bulk:lr*2") != 1.9 {
		t.Errorf("after a new race: Dom %v (want NaN), bulk:lr*2 %v (want the run's 1.9)", tr.Value("train_loss@dom"), tr.Value("train_loss@bulk:lr*2"))
	}
	if c.Value("train_loss@dom") != 1.9 {
		t.Error("the clone changed with the tracker")
	}
	// A step that starts the race and ends before any arm is measured: a claim on an arm
	// fails, it does not hold on the fork's value.
	tr.Begin()
	tr.StartRace([]string{"dom", "bulk"})
	if got, text := tr.Check(Expect{Metric: "train_loss@bulk", Below: f64(5)}, true); got != Fails {
		t.Errorf("an arm not measured in the step: %v (%s), want fails", got, text)
	}
}
