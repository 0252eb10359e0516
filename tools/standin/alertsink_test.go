package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAlertSinkKeepsEveryNotificationInOrder(t *testing.T) {
	server := httptest.NewServer(&alertSink{})
	defer server.Close()
	empty, err := http.Get(server.URL + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	var none []json.RawMessage
	if err := json.NewDecoder(empty.Body).Decode(&none); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("before any notification the list must be [] (not null), got %v %v", none, err)
	}
	for _, status := range []string{"firing", "resolved"} {
		body := `{"status":"` + status + `","alerts":[{"labels":{"alertname":"TargetDown"}}]}`
		resp, err := http.Post(server.URL+"/alerts", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %v %v", status, err, resp)
		}
	}
	resp, err := http.Post(server.URL+"/alerts", "application/json", strings.NewReader("not json"))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a body that is not JSON must be refused, got %v %v", err, resp)
	}
	got, err := http.Get(server.URL + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	var notifications []struct {
		Payload struct {
			Status string `json:"status"`
		} `json:"payload"`
	}
	if err := json.NewDecoder(got.Body).Decode(&notifications); err != nil {
		t.Fatal(err)
	}
	if len(notifications) != 2 || notifications[0].Payload.Status != "firing" || notifications[1].Payload.Status != "resolved" {
		t.Fatalf("want firing then resolved, got %+v", notifications)
	}
}
