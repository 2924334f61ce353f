package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
)

// kubeletSource polls the local kubelet's /pods (the pods bound to this
// node, as the kubelet sees them), for clusters so large that even one
// watch per node loads the control plane.
type kubeletSource struct {
	url       string
	interval  time.Duration
	tokenFile string
	client    *http.Client
	logger    *slog.Logger
}

func newKubeletSource(k config.Kubelet, logger *slog.Logger) (*kubeletSource, error) {
	tc := &tls.Config{InsecureSkipVerify: k.InsecureSkipVerify} //nolint:gosec // operator's choice: kubelet serving certs are often self-signed
	if k.CAFile != "" && !k.InsecureSkipVerify {
		pem, err := os.ReadFile(k.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kubernetes.kubelet.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kubernetes.kubelet.ca_file %s: no certificate in it", k.CAFile)
		}
		tc.RootCAs = pool
	}
	return &kubeletSource{
		url:       strings.TrimSuffix(k.URL, "/") + "/pods",
		interval:  k.Interval.Duration(),
		tokenFile: k.TokenFile,
		client: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConns: 1, IdleConnTimeout: 2 * k.Interval.Duration()},
		},
		logger: logger,
	}, nil
}

func (s *kubeletSource) run(ctx context.Context, h handler) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	failing := false
	for {
		pods, err := s.list(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			// Keep the last list: pods do not vanish because the kubelet
			// did not answer once. Log the first failure of a run of them.
			if !failing {
				s.logger.Warn("kubelet pod list failed; keeping the cached pods", "url", s.url, "err", err)
			}
			failing = true
		default:
			if failing {
				s.logger.Info("kubelet pod list works again", "pods", len(pods))
			}
			failing = false
			h.replace(pods)
			h.synced()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// get lists again and picks the pod: the kubelet has no per-pod endpoint.
func (s *kubeletSource) get(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	pods, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		if p.Namespace == namespace && p.Name == name {
			return p, nil
		}
	}
	return nil, nil
}

func (s *kubeletSource) list(ctx context.Context) ([]*corev1.Pod, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("kubelet request: %w", err)
	}
	if s.tokenFile != "" {
		// Read each time: projected service-account tokens rotate.
		tok, err := os.ReadFile(s.tokenFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("kubelet token: %w", err)
		}
		if t := strings.TrimSpace(string(tok)); t != "" {
			req.Header.Set("Authorization", "Bearer "+t)
		}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", s.url, resp.Status, strings.TrimSpace(string(msg)))
	}
	var list corev1.PodList
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET %s: decode pod list: %w", s.url, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = slim(&list.Items[i])
	}
	return pods, nil
}
