package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRunCountsAnsweredRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("page")) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := run(ctx, srv.URL, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Bytes != 4*res.Requests {
		t.Errorf("%+v: want answered requests of 4 bytes each and no errors", res)
	}
}

func TestRunRefusesAServerThatDoesNotAnswer200(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := run(ctx, srv.URL, 1, false); err == nil {
		t.Error("a 404 on the first request was not an error")
	}
}
