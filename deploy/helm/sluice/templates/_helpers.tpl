{{/* The chart's name, or nameOverride. */}}
{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: the release name, with the chart's name unless it holds it. */}}
{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end }}

{{/* What the DaemonSet, the Services and the monitors select the agent pods by. */}}
{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{- define "sluice.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* A memory quantity in Mi or Gi as MiB; anything else is refused. */}}
{{- define "sluice.mib" -}}
{{- $q := toString . }}
{{- if regexMatch "^[0-9]+Mi$" $q }}
{{- trimSuffix "Mi" $q }}
{{- else if regexMatch "^[0-9]+Gi$" $q }}
{{- mul (atoi (trimSuffix "Gi" $q)) 1024 }}
{{- else }}
{{- fail (printf "memory quantity %q: write it in Mi or Gi" $q) }}
{{- end }}
{{- end }}

{{/* The container's resources: memory from memoryLimitMiB, checked against it. */}}
{{- define "sluice.resources" -}}
{{- $ml := int .Values.memoryLimitMiB }}
{{- $r := deepCopy .Values.resources }}
{{- $req := default dict $r.requests }}
{{- $lim := default dict $r.limits }}
{{- if not (hasKey $req "memory") }}{{ $_ := set $req "memory" (printf "%dMi" $ml) }}{{ end }}
{{- if not (hasKey $lim "memory") }}{{ $_ := set $lim "memory" (printf "%dMi" (div (mul $ml 3) 2)) }}{{ end }}
{{- if lt (int (include "sluice.mib" $req.memory)) $ml }}
{{- fail (printf "resources.requests.memory %s is below memoryLimitMiB %d: the node may not have the agent's memory" $req.memory $ml) }}
{{- end }}
{{- if lt (mul (int (include "sluice.mib" $lim.memory)) 4) (mul $ml 5) }}
{{- fail (printf "resources.limits.memory %s is below 1.25 x memoryLimitMiB %d: a moment over the soft limit would OOM-kill the agent" $lim.memory $ml) }}
{{- end }}
{{- $_ := set $r "requests" $req }}
{{- $_ := set $r "limits" $lim }}
{{- toYaml $r }}
{{- end }}

{{/* Where the ES credentials and CA are mounted, and the files the config reads. */}}
{{- define "sluice.esCredentialFile" -}}
{{- $t := .Values.elasticsearch.auth.type }}
{{- if eq $t "basic" }}password{{ else if eq $t "apiKey" }}api-key{{ else if eq $t "bearer" }}token{{ else if eq $t "none" }}{{ else }}{{ fail (printf "elasticsearch.auth.type %q: want basic, apiKey, bearer or none" $t) }}{{ end }}
{{- end }}
