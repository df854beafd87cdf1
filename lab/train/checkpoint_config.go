package train

// A checkpoint file holds the Config as gob, and gob writes a struct's field names into the
// stream: a setting added to Config would change the bytes of every checkpoint, also of the
// runs that leave it at zero (an experiment's checkpoint.bin is one of its pinned outputs).
// So the file holds the settings of the format's first version in a struct of their own, and
// the settings added since (omitempty in config.json) after it, behind a line of their own,
// written only when one of them is set: a checkpoint of a run without them keeps its bytes, and one with them
// reads back whole.

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"

	"sharpflat/nn"
)

// configV1 is Config as checkpoint files have always held it: these fields, in this order,
// written under a local type named Config (gob writes the type's name too).
type configV1 struct {
	Preset        string
	Data          string
	N             int
	TestFrac      float64
	Hidden        []int
	Act           nn.Activation
	Loss          nn.Loss
	Init          nn.InitScheme
	Seed          uint64
	Optimizer     Optimizer
	LR            float64
	Momentum      float64
	Beta2         float64
	Eps           float64
	Batch         int
	WDom          float64
	WBulk         float64
	Update        RuleSpec
	K             int
	RefreshEvery  int
	HessianSet    int
	Tol           float64
	EvalEvery     int
	EnergyEvery   int
	HutchSamples  int
	DivergeFactor float64
	KeepEvery     int
}

// laterSettings are the settings of Config that configV1 lacks, by flag name, as their flags
// write them: the checkpoint's second gob value. Sorted holds them as name, value, name,
// value, … in name order: gob writes a map in Go's iteration order, which is random, so a
// checkpoint with two later settings had one of two byte sequences (a flaky golden). Settings
// is how files written before 2026-12-06 hold them; it is read, never written.
type laterSettings struct {
	Settings map[string]string
	Sorted   []string
}

// splitConfig copies c's first-version fields into v1 and returns the later settings that are
// set (nil when none is).
func splitConfig(c *Config, v1 *configV1) map[string]string {
	src, dst := reflect.ValueOf(c).Elem(), reflect.ValueOf(v1).Elem()
	for i := range dst.NumField() {
		dst.Field(i).Set(src.FieldByName(dst.Type().Field(i).Name))
	}
	var later map[string]string
	for _, f := range fields {
		if _, old := dst.Type().FieldByName(reflect.TypeOf(*c).FieldByIndex(f.index).Name); old || f.value(c).IsZero() {
			continue
		}
		if later == nil {
			later = map[string]string{}
		}
		later[f.Name] = f.Get(c)
	}
	return later
}

// joinConfig is the Config of v1 and the later settings.
func joinConfig(v1 *configV1, later map[string]string) (Config, error) {
	var c Config
	src, dst := reflect.ValueOf(v1).Elem(), reflect.ValueOf(&c).Elem()
	for i := range src.NumField() {
		dst.FieldByName(src.Type().Field(i).Name).Set(src.Field(i))
	}
	for name, v := range later {
		if err := SetField(&c, name, v); err != nil {
			return c, fmt.Errorf("checkpoint: setting %s: %w", name, err)
		}
	}
	return c, nil
}

// laterMagic starts the later settings after the checkpoint's value, so that bytes that
// follow a checkpoint of before (a sealed file's checksum) are not taken for them.
const laterMagic = "sharpflat later settings\n"

// writeLater appends the later settings, if any, after the checkpoint's value.
func writeLater(w io.Writer, later map[string]string) error {
	if len(later) == 0 {
		return nil
	}
	if _, err := io.WriteString(w, laterMagic); err != nil {
		return err
	}
	sorted := make([]string, 0, 2*len(later))
	for _, name := range slices.Sorted(maps.Keys(later)) {
		sorted = append(sorted, name, later[name])
	}
	return gob.NewEncoder(w).Encode(laterSettings{Sorted: sorted})
}

// readLater reads the later settings after the checkpoint's value, from the reader the
// checkpoint's decoder read exactly (a bufio.Reader is an io.ByteReader, which gob does not
// read ahead of): none when laterMagic does not follow.
func readLater(r *bufio.Reader) (map[string]string, error) {
	if head, _ := r.Peek(len(laterMagic)); string(head) != laterMagic {
		return nil, nil
	}
	r.Discard(len(laterMagic))
	var l laterSettings
	if err := gob.NewDecoder(r).Decode(&l); err != nil {
		return nil, fmt.Errorf("checkpoint: the later settings: %w", err)
	}
	if len(l.Sorted)%2 != 0 {
		return nil, fmt.Errorf("checkpoint: the later settings: %d strings, want name and value pairs", len(l.Sorted))
	}
	later := l.Settings
	for i := 0; i < len(l.Sorted); i += 2 {
		if later == nil {
			later = map[string]string{}
		}
		later[l.Sorted[i]] = l.Sorted[i+1]
	}
	return later, nil
}
