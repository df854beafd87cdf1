package rundir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"sharpflat/lab/train"
)

// TruncatedError reports a metrics file whose last line was cut short (a run killed while
// writing it, by an older sharpflat or a full disk). The steps before it were read.
type TruncatedError struct {
	Path string
	Line int // the cut line
	Kept int // the steps read
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s: line %d is cut short (the run was stopped while writing it); read the %d steps before it", e.Path, e.Line, e.Kept)
}

// ReadMetrics reads a run directory's metrics.jsonl. A last line cut short is left out and
// reported with a *TruncatedError alongside the steps before it: callers that can work with
// them check for it with errors.As. A bad line elsewhere is an error naming it.
func ReadMetrics(dir string) ([]train.Metrics, error) {
	path := filepath.Join(dir, metricsName)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms []train.Metrics
	for line := 1; len(raw) > 0; line++ {
		text, rest, complete := bytes.Cut(raw, []byte{'\n'})
		raw = rest
		m := train.Metrics{BulkTop: train.OptNum(math.NaN())} // absent unless measured
		err := json.Unmarshal(text, &m)
		if err != nil || !complete {
			if len(raw) == 0 { // the last line
				return ms, &TruncatedError{Path: path, Line: line, Kept: len(ms)}
			}
			return ms, fmt.Errorf("%s: line %d: %v", path, line, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir string) (train.Config, error) {
	return train.LoadConfigFile(filepath.Join(dir, "config.json"))
}
