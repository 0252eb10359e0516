package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataGeneration(t *testing.T) {
	dir := t.TempDir()
	for want := int64(1); want <= 3; want++ {
		got, err := bumpGeneration(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("start %d: generation %d", want, got)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, generationFile))
	if err != nil || strings.TrimSpace(string(b)) != "3" {
		t.Fatalf("file holds %q (%v), want 3", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}

	// A generation written by someone else (e.g. an older pod) is continued.
	if err := os.WriteFile(filepath.Join(dir, generationFile), []byte("41"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := bumpGeneration(dir); got != 42 {
		t.Errorf("after 41: %d", got)
	}

	// Garbage is an error, not a silent reset to 1.
	if err := os.WriteFile(filepath.Join(dir, generationFile), []byte("banana"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bumpGeneration(dir); err == nil {
		t.Errorf("a corrupt generation file must fail")
	}

	// A data dir that does not exist (volume not mounted) fails.
	if _, err := bumpGeneration(filepath.Join(dir, "absent")); err == nil {
		t.Errorf("a missing data dir must fail")
	}
}

// serve exposes the generation it wrote.
func TestDataGenerationMetric(t *testing.T) {
	captureLogs(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, generationFile), []byte("6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Service: "chromadb", Namespace: "trading", DataDir: dir,
		Ports: []Port{{Name: "http", Port: 0, Protocol: "http", HealthPath: "/api/v1/heartbeat"}}}
	if err := cfg.validate(true); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.generation, err = bumpGeneration(dir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.metricsText(), "\nstandin_data_generation 7\n") {
		t.Errorf("metrics lack standin_data_generation 7:\n%s", s.metricsText())
	}
}
