package lesson

// The setup keys of a step's do: the network and the data that a preset fixes (hidden, act,
// loss, data, n, test_frac, weight_decay, noise, features). Any of them makes the step begin
// with a fresh run of the current configuration with those settings changed, as the lab's
// setup panel does. Each key is the setting's key in config.json, and its value is checked by
// train's table of settings (train.Field.Set, then Config.Validate), so that a lesson accepts
// exactly the values a run accepts, with the ranges written in one place.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"sharpflat/lab/train"
)

// Setting is one setup key of a step's do, as a run's flag would take it.
type Setting struct {
	Key   string // the key, which is the setting's key in config.json ("test_frac")
	Value string // its value as the setting's flag takes it ("0.25", "64-64", "x1,x2,x1x2")
}

// Apply sets the setting in c. It does not validate c (Config.Validate does, and the fresh
// run's train.New).
func (s Setting) Apply(c *train.Config) error {
	f, ok := setupField(s.Key)
	if !ok {
		return fmt.Errorf("no setting %q", s.Key)
	}
	return f.Set(c, s.Value)
}

// String is the setting as the event log shows it ("hidden 64-64").
func (s Setting) String() string { return s.Key + " " + s.Value }

// DescribeSetup says a step's setup in words, for the event log ("hidden 64-64, act relu").
func DescribeSetup(ss []Setting) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// The kinds of value a setup key takes in a lesson file.
const (
	setupWord   = iota // a string: a name (act, loss, data)
	setupCount         // an integer (n)
	setupNumber        // a number, an integer will do (test_frac, weight_decay)
	setupSigma         // a number, or "default": the data set's own (noise)
	setupWidths        // an array of widths ([] is a linear model): hidden
	setupTokens        // an array of names, written with commas for the flag: features
)

// setupKeys are the setup keys in the order the docs list them, with the kind of value each
// takes. A key whose setting train does not have is not offered (SetupKeys).
var setupKeys = []struct {
	key  string
	kind int
}{
	{"hidden", setupWidths},
	{"act", setupWord},
	{"loss", setupWord},
	{"data", setupWord},
	{"n", setupCount},
	{"test_frac", setupNumber},
	{"weight_decay", setupNumber},
	{"noise", setupSigma},
	{"features", setupTokens},
}

// lessonData are the data sets a lesson may choose: the built-in ones. A CSV file is not
// offered: a lesson is shared, and it would read a file of whatever machine plays it.
var lessonData = []string{"gaussian", "moons", "spirals", "circles", "xor", "teacher", "mnist", "mnist14", "mnist5k"}

// setupField is the setting of train whose config.json key is key.
func setupField(key string) (train.Field, bool) {
	for _, f := range train.Fields() {
		if f.JSON == key {
			return f, true
		}
	}
	return train.Field{}, false
}

// SetupKeys are the setup keys a step's do accepts, in the docs' order.
func SetupKeys() []string {
	var ks []string
	for _, k := range setupKeys {
		if _, ok := setupField(k.key); ok {
			ks = append(ks, k.key)
		}
	}
	return ks
}

// setupKind is the kind of value of a setup key, or -1 if it is not one.
func setupKind(key string) int {
	if !slices.Contains(SetupKeys(), key) {
		return -1
	}
	for _, k := range setupKeys {
		if k.key == key {
			return k.kind
		}
	}
	return -1
}

// setupBase is the configuration a setting is checked against: a valid preset, so that
// Validate's complaint, if any, is about the setting.
func setupBase() train.Config {
	c, err := train.Preset("moons")
	if err != nil {
		panic(err)
	}
	return c
}

// setting decodes a setup key of do (its kind says how to read it) and checks it as a run
// would: parsed by its field, then the configuration validated.
func (d *decoder) setting(e *entry, kind int) (Setting, bool) {
	s := Setting{Key: e.key}
	v := e.val
	switch kind {
	case setupWord:
		text, ok := d.str(e)
		if !ok {
			return s, false
		}
		s.Value = strings.TrimSpace(text)
		if e.key == "data" && !slices.Contains(lessonData, s.Value) {
			d.failf(v.off, e.field, "unknown data set %q (%sdata sets: %s; a lesson cannot read a CSV file)", short(s.Value), didYouMean(s.Value, lessonData), strings.Join(lessonData, ", "))
			return s, false
		}
	case setupCount:
		n, ok := d.integer(e, "an integer in [1, 1000000000]", 1, 1_000_000_000)
		if !ok {
			return s, false
		}
		s.Value = strconv.FormatInt(n, 10)
	case setupSigma:
		if v.kind == unstable.String {
			text, ok := d.str(e)
			if !ok {
				return s, false
			}
			if strings.TrimSpace(text) != "default" {
				d.failf(v.off, e.field, `expected a number, or "default" (the data set's own), got %q`, short(text))
				return s, false
			}
			s.Value = "default"
			break
		}
		fallthrough
	case setupNumber:
		x, ok := d.number(e, "a finite number", finite)
		if !ok {
			return s, false
		}
		s.Value = strconv.FormatFloat(x, 'g', -1, 64)
	case setupWidths:
		if v.kind != unstable.Array {
			d.wrongType(e.field, v, "an array of widths (hidden = [16, 16]; [] is a linear model)")
			return s, false
		}
		widths := make([]int, 0, len(v.items))
		for i, item := range v.items {
			w, ok := d.integer(&entry{field: index(e.field, i), off: item.off, val: item},
				fmt.Sprintf("a width in [1, %d]", train.MaxWidth), 1, train.MaxWidth)
			if !ok {
				return s, false
			}
			widths = append(widths, int(w))
		}
		s.Value = train.JoinWidths(widths)
	case setupTokens:
		if v.kind != unstable.Array {
			d.wrongType(e.field, v, `an array of names (features = ["x1", "x2", "x1x2"])`)
			return s, false
		}
		if len(v.items) == 0 {
			d.failf(v.off, e.field, "expected at least one name")
			return s, false
		}
		var names []string
		for i, item := range v.items {
			field := index(e.field, i)
			if item.kind != unstable.String {
				d.wrongType(field, item, "a string")
				return s, false
			}
			name, ok := d.str(&entry{field: field, off: item.off, val: item})
			if !ok {
				return s, false
			}
			name = strings.TrimSpace(name)
			if name == "" || strings.ContainsAny(name, ", ") {
				d.failf(item.off, field, "expected one name, got %q", short(name))
				return s, false
			}
			if j := slices.Index(names, name); j >= 0 {
				d.failf(item.off, field, "%q is item %d again", short(name), j+1)
				return s, false
			}
			names = append(names, name)
		}
		s.Value = strings.Join(names, ",")
	}
	c := setupBase()
	err := s.Apply(&c)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		d.failf(v.off, e.field, "%s", validateMessage(err))
		return s, false
	}
	return s, true
}

// validateMessage puts a setting's or Validate's error on one line: "invalid configuration:
// test_frac: 1, want in [0, 1)" rather than its indented list.
func validateMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "invalid configuration:")
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return short2(strings.Join(lines, "; "))
}

// short2 cuts a message from train to 200 characters (it may quote the value).
func short2(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// setupInForce follows the configuration's setup through a step's do (t, decoded as a): a
// preset replaces it, and the step's setup keys together must make a valid configuration of
// it (noise with MNIST would not), checked at the last of them.
func (d *decoder) setupInForce(t *table, a Actions) {
	if d.err != nil {
		return
	}
	if a.Preset != "" {
		c, err := train.Preset(a.Preset)
		if err != nil {
			d.cfg = nil
			return
		}
		d.cfg = &c
	}
	if d.cfg == nil || len(a.Setup) == 0 {
		return
	}
	c := *d.cfg
	var last *entry
	for _, s := range a.Setup {
		if err := s.Apply(&c); err != nil { // checked alone already
			return
		}
		last = t.get(s.Key)
	}
	if err := c.Validate(); err != nil {
		d.failf(last.val.off, last.field, "the setup in force would be invalid: %s", validateMessage(err))
		return
	}
	d.cfg = &c
}
