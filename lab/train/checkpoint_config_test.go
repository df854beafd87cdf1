package train

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"
)

// A checkpoint of a run with a setting added after the format's first version (batch
// sharpness) reads back with it; without it the file is as before (TestCheckpointFilesOfBefore).
func TestCheckpointLaterSettings(t *testing.T) {
	c := small()
	c.BatchSharpnessEvery, c.BatchSharpnessBatches = 3, 7
	tr, _ := run(t, c, 2)
	var b bytes.Buffer
	if _, err := tr.Save(WhyResume).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoint(&b)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Config.Fingerprint() != c.Fingerprint() || cp.Config.BatchSharpnessEvery != 3 || cp.Config.BatchSharpnessBatches != 7 {
		t.Errorf("read back %+v, want the settings of %+v", cp.Config, c)
	}
	c.BatchSharpnessEvery, c.BatchSharpnessBatches = 0, 0
	tr, _ = run(t, c, 2)
	b.Reset()
	tr.Save(WhyResume).WriteTo(&b)
	if bytes.Contains(b.Bytes(), []byte("BatchSharpness")) || bytes.Contains(b.Bytes(), []byte("Settings")) {
		t.Error("a checkpoint without the later settings names them")
	}
}

// A checkpoint with several later settings has one byte sequence: they used to be written
// as a gob map, in Go's random iteration order (two settings: the other order in about one
// write of eight here, which made the experiment golden flaky). 64 writes of the same state
// must give the same bytes; the map version fails this with probability 1 − 0.87⁶³.
func TestCheckpointLaterSettingsBytesFixed(t *testing.T) {
	c := small()
	c.BatchSharpnessEvery, c.BatchSharpnessBatches = 3, 7
	tr, _ := run(t, c, 2)
	cp := tr.Save(WhyResume)
	var first bytes.Buffer
	if _, err := cp.WriteTo(&first); err != nil {
		t.Fatal(err)
	}
	for i := range 63 {
		var b bytes.Buffer
		cp.WriteTo(&b)
		if !bytes.Equal(b.Bytes(), first.Bytes()) {
			t.Fatalf("write %d of the same checkpoint differs from the first", i+2)
		}
	}
}

// Files written before the later settings were sorted hold them as a map (laterSettings'
// Settings field): they still read, and the two forms are read the same.
func TestCheckpointLaterSettingsOldForm(t *testing.T) {
	want := map[string]string{"batch-sharpness-every": "5", "batch-sharpness-batches": "4"}
	var b bytes.Buffer
	b.WriteString(laterMagic)
	type laterSettings struct{ Settings map[string]string } // the type as it was
	if err := gob.NewEncoder(&b).Encode(laterSettings{Settings: want}); err != nil {
		t.Fatal(err)
	}
	got, err := readLater(bufio.NewReader(&b))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the old form read back as %v, %v; want %v", got, err, want)
	}
	b.Reset()
	if err := writeLater(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err = readLater(bufio.NewReader(&b))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the sorted form read back as %v, %v; want %v", got, err, want)
	}
}

// Every field of Config reaches a checkpoint: it is one of the first version's (configV1) or a
// setting (a Field, written by name after it when set). A Config field that is neither would be
// dropped by splitConfig without a word.
func TestCheckpointKeepsEveryConfigField(t *testing.T) {
	v1 := reflect.TypeOf(configV1{})
	settings := map[string]bool{}
	for _, f := range fields {
		settings[reflect.TypeOf(Config{}).FieldByIndex(f.index).Name] = true
	}
	ct := reflect.TypeOf(Config{})
	for i := range ct.NumField() {
		name := ct.Field(i).Name
		if _, old := v1.FieldByName(name); !old && !settings[name] {
			t.Errorf("Config.%s is neither in configV1 nor a setting: a checkpoint would lose it", name)
		}
	}
	for i := range v1.NumField() {
		if f, ok := ct.FieldByName(v1.Field(i).Name); !ok || f.Type != v1.Field(i).Type {
			t.Errorf("configV1.%s has no field of its type in Config", v1.Field(i).Name)
		}
	}
}
