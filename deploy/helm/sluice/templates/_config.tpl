{{/*
The default agent config: deploy/base/sluice.yaml (see its comments), with
the chart's values. .Values.config is merged over it (configmap.yaml).
*/}}
{{- define "sluice.defaultConfig" -}}
node_name: ${NODE_NAME}
data_dir: {{ .Values.dataDir }}
memory_limit: {{ printf "%dMiB" (int .Values.memoryLimitMiB) }}
workers: 2
shutdown_timeout: 20s
http:
  listen: {{ printf "0.0.0.0:%d" (int .Values.httpPort) }}
  token_file: /etc/sluice-tap/token
inputs:
  - name: containers
    type: container_logs
    paths: [/var/log/containers/*.log]
    allowed_roots: [/var/log/pods, /var/log/containers, /var/lib/docker/containers, /var/lib/containers]
    start_at: head
{{- if .Values.syslog.enabled }}
  - name: syslog
    type: syslog
    tcp: {{ printf "0.0.0.0:%d" (int .Values.syslog.containerPort) }}
    udp: {{ printf "0.0.0.0:%d" (int .Values.syslog.containerPort) }}
    format: auto
{{- end }}
kubernetes:
  enabled: true
  kubeconfig: ""
  labels: true
  annotations: false
transforms:
  - { type: json, field: log, target: "", keep_original: false }
outputs:
  - name: es
    type: elasticsearch
{{- if .Values.elasticsearch.urls }}
    urls: {{ toJson .Values.elasticsearch.urls }}
{{- else }}
    urls: ["${ES_URL}"]
{{- end }}
{{- $t := .Values.elasticsearch.auth.type }}
{{- if eq $t "basic" }}
    username: ${ES_USERNAME:-}
    password_file: /etc/sluice-es/password
{{- else if eq $t "apiKey" }}
    api_key_file: /etc/sluice-es/api-key
{{- else if eq $t "bearer" }}
    bearer_token_file: /etc/sluice-es/token
{{- end }}
{{- if .Values.elasticsearch.tls.caSecretName }}
    tls: { ca_file: /etc/sluice-es-ca/ca.crt }
{{- end }}
    bulk: { max_bytes: 5MiB, flush_interval: 1s, workers: 2, compress: false }
{{- end }}

{{/* The config the agent reads: the default with .Values.config over it. */}}
{{- define "sluice.config" -}}
{{- if hasKey .Values.config "memory_limit" }}
{{- fail "config.memory_limit: set memoryLimitMiB instead (the pod's memory request and limit follow it)" }}
{{- end }}
{{- $cfg := fromYaml (include "sluice.defaultConfig" .) }}
{{- if hasKey $cfg "Error" }}{{ fail (printf "default config: %s" $cfg.Error) }}{{ end }}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.config)) }}
{{- end }}
