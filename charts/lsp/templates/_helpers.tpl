{{/* Common labels of every object. */}}
{{- define "lsp.labels" -}}
app.kubernetes.io/part-of: lsp
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Labels of one app: name = the folder under services/ = the Dapr app-id. */}}
{{- define "lsp.appLabels" -}}
{{ include "lsp.labels" .root }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/component: service
app.kubernetes.io/version: {{ .root.Values.image.tag | quote }}
{{- end }}

{{- define "lsp.selector" -}}
app.kubernetes.io/part-of: lsp
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{/* The Kubernetes name of an app's objects. */}}
{{- define "lsp.fullname" -}}
{{ .root.Release.Name }}-{{ .name }}
{{- end }}

{{/* An app's image: its own full reference when set (Skaffold sets them), else <registry>/<app>:<tag>. */}}
{{- define "lsp.image" -}}
{{- $app := get .root.Values.apps .name -}}
{{- if $app.image -}}
{{ $app.image }}
{{- else -}}
{{ .root.Values.image.registry }}/{{ .name }}:{{ .root.Values.image.tag }}
{{- end -}}
{{- end }}

{{/* OTLP endpoints: the configured ones, else the bundled collector's. */}}
{{- define "lsp.otlpHttp" -}}
{{- if .Values.telemetry.otlpHttpEndpoint -}}
{{ .Values.telemetry.otlpHttpEndpoint }}
{{- else if .Values.otelCollector.enabled -}}
http://{{ .Release.Name }}-otel-collector:4318
{{- end -}}
{{- end }}

{{- define "lsp.otlpGrpc" -}}
{{- if .Values.dapr.tracing.otlpEndpoint -}}
{{ .Values.dapr.tracing.otlpEndpoint }}
{{- else if .Values.otelCollector.enabled -}}
{{ .Release.Name }}-otel-collector:4317
{{- end -}}
{{- end }}

{{- define "lsp.redisHost" -}}
{{- if .Values.redis.enabled -}}
{{ .Release.Name }}-redis:{{ .Values.redis.port }}
{{- else -}}
{{ .Values.redis.host }}:{{ .Values.redis.port }}
{{- end -}}
{{- end }}

{{- define "lsp.postgresHost" -}}
{{- if .Values.postgresql.enabled -}}
{{ .Release.Name }}-postgresql
{{- else -}}
{{ .Values.postgresql.host }}
{{- end -}}
{{- end }}

{{/* Dapr resources are scoped to the app-ids of this release. */}}
{{- define "lsp.appIds" -}}
{{- keys .Values.apps | sortAlpha | toJson -}}
{{- end }}
