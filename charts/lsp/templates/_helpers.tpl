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

{{/*
components/access.yaml (copied verbatim to files/dapr/access.yaml by scripts/validate-k8s-write.ts):
who may invoke, read, publish and subscribe what. Every access rule of the chart (Dapr
accessControl, secret scopes, pub/sub topic scopes, the Roles, NetworkPolicies and Istio policies)
is derived from it, so the list is written once. Returned as JSON: `include "lsp.access" $ | fromJson`.
Fails when the file and `apps` name different apps.
*/}}
{{- define "lsp.access" -}}
{{- $access := .Files.Get "files/dapr/access.yaml" | fromYaml -}}
{{- if or (hasKey $access "Error") (not $access.apps) (not $access.topics) -}}
{{- fail (printf "files/dapr/access.yaml is missing or unreadable (%v): run `npx tsx scripts/validate-k8s-write.ts`" ($access.Error | default "no apps or topics")) -}}
{{- end -}}
{{- if ne (keys $access.apps | sortAlpha | toJson) (keys .Values.apps | sortAlpha | toJson) -}}
{{- fail (printf "access.yaml names the apps %v, values.yaml %v" (keys $access.apps | sortAlpha) (keys .Values.apps | sortAlpha)) -}}
{{- end -}}
{{- $access | toJson -}}
{{- end }}

{{/*
The apps whose sidecars call this app's sidecar (on Dapr's internal port 50002): those that list it
under `invokes` in access.yaml, and those that call an actor type it hosts (`apps.<app>.actorTypes`;
actor calls are placed by Dapr placement, not service invocation). JSON list, sorted.
*/}}
{{- define "lsp.callers" -}}
{{- $access := include "lsp.access" .root | fromJson -}}
{{- $hosted := (get .root.Values.apps .name).actorTypes | default list -}}
{{- $callers := list -}}
{{- range $caller := keys $access.apps | sortAlpha -}}
{{- $a := get $access.apps $caller -}}
{{- $invokes := $a.invokes | default dict -}}
{{- if hasKey $invokes $.name -}}
{{- $callers = append $callers $caller -}}
{{- else -}}
{{- range $type := $a.actors | default list -}}
{{- if has $type $hosted -}}
{{- $callers = append $callers $caller -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $callers | uniq | toJson -}}
{{- end }}

{{/* The Dapr Configuration of one app (its sidecar's access control and secret scopes). */}}
{{- define "lsp.daprConfig" -}}
daprconfig-{{ .name }}
{{- end }}

{{/* Per-app token Secrets (key `token`): app → its sidecar, and sidecar → app. */}}
{{- define "lsp.daprApiTokenSecret" -}}
{{ include "lsp.fullname" . }}-dapr-api-token
{{- end }}
{{- define "lsp.appApiTokenSecret" -}}
{{ include "lsp.fullname" . }}-app-api-token
{{- end }}

{{/* The namespace holding the merchant credentials (payments-<provider>-<tenantId> Secrets). */}}
{{- define "lsp.merchantNamespace" -}}
{{ .Values.merchantCredentials.namespace | default (printf "%s-merchant-credentials" .Release.Namespace) }}
{{- end }}

{{/*
What one app may invoke, as the JSON its sidecar client checks (LSP_ALLOWED_INVOCATIONS): the
app's `invokes` of access.yaml, `{"<callee>": ["VERB /path", …]}`.
*/}}
{{- define "lsp.allowedInvocations" -}}
{{- $invokes := (index .access.apps .app).invokes | default dict -}}
{{- $invokes | toJson -}}
{{- end -}}

{{/*
The `scopes` of a Dapr component (state store, binding) other than pub/sub and the secret stores:
the apps that list it under `components` in access.yaml (scripts/mesh/access.ts componentScopes
does the same locally). A sidecar loads only the components scoped to its app. JSON list, sorted;
fails for a component no app uses.
*/}}
{{- define "lsp.componentScopes" -}}
{{- $users := list -}}
{{- range $app := keys .access.apps | sortAlpha -}}
{{- if has $.name ((get $.access.apps $app).components | default list) -}}
{{- $users = append $users $app -}}
{{- end -}}
{{- end -}}
{{- if not $users -}}
{{- fail (printf "access.yaml: no app uses the Dapr component %s" .name) -}}
{{- end -}}
{{- $users | toJson -}}
{{- end -}}
