package train

import (
	"bytes"
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
