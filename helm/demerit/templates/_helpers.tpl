{{/* Chart name, shortened to the 63 characters of a DNS label. */}}
{{- define "demerit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name when it already contains the chart name.
Shortened to 52 characters: StatefulSet pods add "-<ordinal>" and their controller-revision-hash
label adds "-<hash>" (10 characters) to the StatefulSet's name, which must stay within 63.
*/}}
{{- define "demerit.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "demerit.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "demerit.labels" -}}
helm.sh/chart: {{ include "demerit.chart" . }}
{{ include "demerit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: demerit
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the pods (immutable in the StatefulSet: never change them). */}}
{{- define "demerit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "demerit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "demerit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "demerit.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "demerit.headlessServiceName" -}}
{{- printf "%s-headless" (include "demerit.fullname" .) }}
{{- end }}

{{- define "demerit.configMapName" -}}
{{- printf "%s-config" (include "demerit.fullname" .) }}
{{- end }}

{{/* The rules ConfigMap: the chart's own, or an existing one. */}}
{{- define "demerit.rulesConfigMapName" -}}
{{- if .Values.rules.existingConfigMap }}
{{- .Values.rules.existingConfigMap }}
{{- else }}
{{- printf "%s-rules" (include "demerit.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Secret with the SASL credentials, empty when there are none. */}}
{{- define "demerit.credentialsSecretName" -}}
{{- if .Values.kafka.credentials.existingSecret }}
{{- .Values.kafka.credentials.existingSecret }}
{{- else if .Values.kafka.credentials.create }}
{{- printf "%s-kafka" (include "demerit.fullname" .) }}
{{- end }}
{{- end }}

{{- define "demerit.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
ConfigMap key of a rule file path relative to the rules directory: ConfigMaps hold no
directories, so "packs/NAME.yaml" is stored under "packs__NAME.yaml".
*/}}
{{- define "demerit.rulesKey" -}}
{{- . | replace "/" "__" }}
{{- end }}

{{/* Checks of combinations of values that the JSON schema cannot express. */}}
{{- define "demerit.validate" -}}
{{- $partitions := .Values.kafka.inputPartitions }}
{{- if and (not (kindIs "invalid" $partitions)) (gt (int .Values.replicaCount) (int $partitions)) }}
{{- fail (printf "replicaCount (%d) exceeds kafka.inputPartitions (%d): each input partition is processed by exactly one instance, so the extra instances would stay idle and never become ready. Lower replicaCount or add partitions to the input topics (all of them: they are co-partitioned) first." (int .Values.replicaCount) (int $partitions)) }}
{{- end }}
{{- if and .Values.kafka.credentials.create (not .Values.kafka.credentials.existingSecret) }}
{{- if or (not .Values.kafka.credentials.username) (not .Values.kafka.credentials.password) }}
{{- fail "kafka.credentials.create is true: set kafka.credentials.username and kafka.credentials.password (or use kafka.credentials.existingSecret)" }}
{{- end }}
{{- end }}
{{- if and .Values.rules.existingConfigMap (not .Values.rules.existingConfigMapPacks) }}
{{- fail "rules.existingConfigMap is set: list its packs in rules.existingConfigMapPacks (file names such as jiarun-aftersales.yaml, stored under keys packs__<NAME>)" }}
{{- end }}
{{- if and (not .Values.rules.existingConfigMap) (not (.Files.Get "files/rules/sites.yaml")) }}
{{- fail "the chart has no files/rules/sites.yaml: run tests/helm/sync-rules.sh, or set rules.existingConfigMap" }}
{{- end }}
{{- end }}
