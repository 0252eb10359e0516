package main

import (
	"os"
	"strconv"
)

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
