package train

import (
	"encoding/json"
	"strings"
	"testing"
)

// A step's metrics name a rule that is not a blend ("update" in metrics.jsonl), and leave the
// key out for a blend, so that the metrics of blend runs keep their bytes.
func TestMetricsNameTheRule(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want string // the "update" key of the step's JSON, "" for none
	}{
		{Blend{Dom: 0, Bulk: 1}, ""},
		{DomDamped{C: 1}, "dom-damped"},
		{DomDamped{C: 0.5}, "dom-damped=0.5"},
	} {
		c := small()
		c.SetRule(tc.rule)
		tr, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		m := steps(t, tr, 1)[0]
		raw, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]any
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatal(err)
		}
		got, has := keys["update"]
		switch {
		case tc.want == "" && has:
			t.Errorf("%s: the step's JSON has update %v; a blend leaves it out", tc.rule, got)
		case tc.want != "" && got != tc.want:
			t.Errorf("%s: the step's JSON has update %v, want %q", tc.rule, got, tc.want)
		}
		if tc.want != "" && !strings.Contains(string(raw), `"w_bulk":1`) {
			t.Errorf("%s: w_bulk is not 1 in %s", tc.rule, raw)
		}
	}
}
