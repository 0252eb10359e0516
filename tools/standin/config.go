package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Port is one declared port of the service.
type Port struct {
	Name       string `json:"name"`
	Port       int    `json:"port"`
	Protocol   string `json:"protocol"`             // "grpc" or "http"
	HealthPath string `json:"healthPath,omitempty"` // http only; default /health
}

// Config is the stand-in's config file ($STANDIN_CONFIG, default /etc/standin/config.json).
type Config struct {
	Service   string `json:"service"`
	Namespace string `json:"namespace"`
	Ports     []Port `json:"ports"`
	// DataDir, when set, is a persistent volume's mount: a generation counter in it is bumped at
	// every start to prove the data survives restarts.
	DataDir string `json:"dataDir,omitempty"`
}

const defaultConfigPath = "/etc/standin/config.json"

func configPath() string {
	if p := os.Getenv("STANDIN_CONFIG"); p != "" {
		return p
	}
	return defaultConfigPath
}

func loadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	if err := c.validate(false); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// validate checks the config; allowZeroPorts lets tests bind random ports.
func (c *Config) validate(allowZeroPorts bool) error {
	var p []string
	if strings.TrimSpace(c.Service) == "" {
		p = append(p, "service: required")
	}
	if len(c.Ports) == 0 {
		p = append(p, "ports: at least one port is required")
	}
	seenName := map[string]bool{}
	seenPort := map[int]bool{}
	for i := range c.Ports {
		pt := &c.Ports[i]
		where := fmt.Sprintf("ports[%d]", i)
		if pt.Name == "" {
			pt.Name = pt.Protocol
		}
		if seenName[pt.Name] {
			p = append(p, fmt.Sprintf("%s: name %q declared twice", where, pt.Name))
		}
		seenName[pt.Name] = true
		min := 1
		if allowZeroPorts {
			min = 0
		}
		if pt.Port < min || pt.Port > 65535 {
			p = append(p, fmt.Sprintf("%s: port must be 1-65535, found %d", where, pt.Port))
		} else if pt.Port != 0 && seenPort[pt.Port] {
			p = append(p, fmt.Sprintf("%s: port %d declared twice", where, pt.Port))
		}
		seenPort[pt.Port] = true
		switch pt.Protocol {
		case "http":
			if pt.HealthPath == "" {
				pt.HealthPath = "/health"
			}
			if !strings.HasPrefix(pt.HealthPath, "/") {
				p = append(p, fmt.Sprintf("%s: healthPath must start with /, found %q", where, pt.HealthPath))
			}
		case "grpc":
			if pt.HealthPath != "" {
				p = append(p, fmt.Sprintf("%s: healthPath is for http ports only", where))
			}
		default:
			p = append(p, fmt.Sprintf("%s: protocol must be \"grpc\" or \"http\", found %q", where, pt.Protocol))
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("%s", strings.Join(p, "; "))
	}
	return nil
}
