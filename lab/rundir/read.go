package rundir

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"sharpflat/lab/train"
)

// ReadMetrics reads a run directory's metrics.jsonl.
func ReadMetrics(dir string) ([]train.Metrics, error) {
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []train.Metrics
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		m := train.Metrics{BulkTop: train.OptNum(math.NaN())} // absent unless measured
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("%s/metrics.jsonl: line %d: %v", dir, len(ms)+1, err)
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir string) (train.Config, error) {
	return train.LoadConfigFile(filepath.Join(dir, "config.json"))
}
