package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// failureScale is the ratio's resolution: parts per million, so the arithmetic is exact integers.
const failureScale = 1_000_000

// failureInjector decides which application requests fail. It is counter-based, not random: the
// n-th request fails when floor(n·ratio) grows, so after any N requests exactly floor(N·ratio) have
// failed, spread evenly (ratio 0.25 fails the 4th, 8th, 12th, ...). A canary test can therefore
// expect an exact error ratio from a known number of requests.
type failureInjector struct {
	ppm uint64 // ratio in parts per million, 0..failureScale

	mu sync.Mutex
	n  uint64 // application requests decided so far
}

func newFailureInjector(ratio float64) *failureInjector {
	return &failureInjector{ppm: uint64(math.Round(ratio * failureScale))}
}

// next decides the next application request: true when it must fail.
func (f *failureInjector) next() bool {
	if f.ppm == 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return f.n*f.ppm/failureScale > (f.n-1)*f.ppm/failureScale
}

func (f *failureInjector) ratio() float64 { return float64(f.ppm) / failureScale }

// failureRatioEnv reads STANDIN_FAILURE_RATIO: the share (0..1) of requests to application paths
// answered with 503. Empty or unset is 0.
func failureRatioEnv(environ []string) (float64, error) {
	const name = "STANDIN_FAILURE_RATIO"
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = strings.TrimSpace(val)
		}
	}
	if v == "" {
		return 0, nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return 0, fmt.Errorf("%s must be a number from 0 to 1 (the share of application requests answered with 503), found %q", name, v)
	}
	return r, nil
}
