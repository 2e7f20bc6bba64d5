{{/*
Enrichment and privacy (aggregator.enrich): the aggregator's `enrich` block
(apps/aggregator/src/enrich-config.ts). The keys the aggregator takes as they are pass through; the
HMAC key comes from an existing Secret (an env var from secretKeyRef, or a file mounted read-only),
the geo database and the campaign file from an existing ConfigMap, Secret or volume mounted
read-only, and the config names the env var or the mounted path. values.schema.json checks the
values (test/charts.test.ts keeps it equal to the aggregator's schema).
*/}}

{{- define "tributary-hub.enrich.dir" -}}/var/run/tributary/enrich{{- end -}}
{{- define "tributary-hub.enrich.hashKeyVar" -}}TRIBUTARY_ENRICH_HASH_KEY{{- end -}}

{{/* Whether enrichment is on: "true" or empty. */}}
{{- define "tributary-hub.enrich.enabled" -}}
{{- if .Values.aggregator.enrich.enabled -}}true{{- end -}}
{{- end -}}

{{/* Whether the HMAC key is wired (enrichment on and hashKey.existingSecret set): "true" or empty. */}}
{{- define "tributary-hub.enrich.hashKey" -}}
{{- if and (include "tributary-hub.enrich.enabled" .) .Values.aggregator.enrich.hashKey.existingSecret -}}true{{- end -}}
{{- end -}}

{{/*
The mounted files of enrichment: a list of {name, value, dir, file, source} for the geo database
and the campaign file when set (source: configMap, secret or volume), and the hash key as a file
(hashKey.from file). Fails when one names more than one source.
*/}}
{{- define "tributary-hub.enrich.files" -}}
{{- $files := list -}}
{{- if (include "tributary-hub.enrich.enabled" .) -}}
{{- $e := .Values.aggregator.enrich -}}
{{- range $value, $name := dict "geoDatabase" "enrich-geo" "campaignFile" "enrich-campaigns" -}}
{{- $src := index $e $value -}}
{{- $set := list -}}
{{- range $kind := list "configMap" "secret" "volume" -}}
{{- if index $src $kind }}{{ $set = append $set $kind }}{{ end -}}
{{- end -}}
{{- if gt (len $set) 1 -}}
{{- fail (printf "aggregator.enrich.%s sets %s: set only one of configMap, secret and volume" $value (join " and " $set)) -}}
{{- end -}}
{{- if $set -}}
{{- $files = append $files (dict "name" $name "value" $value "dir" (printf "%s/%s" (include "tributary-hub.enrich.dir" $) (ternary "geo" "campaigns" (eq $value "geoDatabase"))) "file" $src.file "source" (first $set) "from" $src) -}}
{{- end -}}
{{- end -}}
{{- if and (include "tributary-hub.enrich.hashKey" .) (eq $e.hashKey.from "file") -}}
{{- $files = append $files (dict "name" "enrich-hash-key" "value" "hashKeyFile" "dir" (printf "%s/hash-key" (include "tributary-hub.enrich.dir" .)) "file" $e.hashKey.key "source" "secret" "from" (dict "secret" $e.hashKey.existingSecret) "mode" 256) -}}
{{- end -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}

{{/*
Refuses what the aggregator would refuse at start: ipMode hash, or a redaction that hashes, without
the HMAC key.
*/}}
{{- define "tributary-hub.enrich.checks" -}}
{{- $e := .Values.aggregator.enrich -}}
{{- if and $e.enabled (not $e.hashKey.existingSecret) -}}
{{- if eq $e.ipMode "hash" -}}
{{- fail "aggregator.enrich.ipMode is hash but no HMAC key is set: set aggregator.enrich.hashKey.existingSecret to an existing Secret holding the key (openssl rand -hex 32) under aggregator.enrich.hashKey.key, or use ipMode truncate" -}}
{{- end -}}
{{- $rules := list -}}
{{- range $i, $r := $e.redact | default list -}}
{{- $rules = append $rules (dict "where" (printf "aggregator.enrich.redact[%d]" $i) "rule" $r) -}}
{{- end -}}
{{- range $id, $s := $e.sources | default dict -}}
{{- range $i, $r := ($s | default dict).redact | default list -}}
{{- $rules = append $rules (dict "where" (printf "aggregator.enrich.sources.%s.redact[%d]" $id $i) "rule" $r) -}}
{{- end -}}
{{- end -}}
{{- range $rules -}}
{{- if eq .rule.action "hash" -}}
{{- fail (printf "%s hashes %s but no HMAC key is set: set aggregator.enrich.hashKey.existingSecret to an existing Secret holding the key (openssl rand -hex 32), or use action drop" .where .rule.path) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The `enrich` block of the aggregator's config, as JSON. */}}
{{- define "tributary-hub.enrich.config" -}}
{{- $e := .Values.aggregator.enrich -}}
{{- if not (include "tributary-hub.enrich.enabled" .) -}}
{{- toJson (dict "enabled" false) -}}
{{- else -}}
{{- include "tributary-hub.enrich.checks" . -}}
{{- $config := dict
  "enabled" true
  "ipMode" $e.ipMode
  "saltRotationSeconds" (int $e.saltRotationSeconds)
  "internalDomains" ($e.internalDomains | default list)
  "uniqueRule" $e.uniqueRule
  "redact" ($e.redact | default list)
  "payload" $e.payload
  "prefer" $e.prefer
  "sources" ($e.sources | default dict)
  "maxKeys" (int $e.maxKeys)
-}}
{{- /* null (or absent): the aggregator's own defaults; [] judges nothing suspicious. */ -}}
{{- if not (kindIs "invalid" $e.suspicious) -}}
{{- $_ := set $config "suspicious" $e.suspicious -}}
{{- end -}}
{{- with $e.fields -}}
{{- $_ := set $config "fields" . -}}
{{- end -}}
{{- if and (include "tributary-hub.enrich.hashKey" .) (ne $e.hashKey.from "file") -}}
{{- $_ := set $config "hashKeyEnv" (include "tributary-hub.enrich.hashKeyVar" .) -}}
{{- end -}}
{{- range (include "tributary-hub.enrich.files" . | fromJsonArray) -}}
{{- $_ := set $config .value (printf "%s/%s" .dir .file) -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}
{{- end -}}

{{/* The HMAC key's env var, from its Secret (hashKey.from env). */}}
{{- define "tributary-hub.enrich.env" -}}
{{- if and (include "tributary-hub.enrich.hashKey" .) (ne .Values.aggregator.enrich.hashKey.from "file") }}
- name: {{ include "tributary-hub.enrich.hashKeyVar" . }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.aggregator.enrich.hashKey.existingSecret | quote }}
      key: {{ .Values.aggregator.enrich.hashKey.key | quote }}
{{- end }}
{{- end -}}

{{- define "tributary-hub.enrich.volumeMounts" -}}
{{- range (include "tributary-hub.enrich.files" . | fromJsonArray) }}
- name: {{ .name }}
  mountPath: {{ .dir }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* ConfigMaps and Secrets mount only the named key; a volume source is mounted whole (not by subPath, so updates reach the pod). */}}
{{- define "tributary-hub.enrich.volumes" -}}
{{- range (include "tributary-hub.enrich.files" . | fromJsonArray) }}
{{- if eq .source "configMap" }}
- name: {{ .name }}
  configMap:
    name: {{ .from.configMap | quote }}
    items:
      - key: {{ .file | quote }}
        path: {{ .file | quote }}
{{- else if eq .source "secret" }}
- name: {{ .name }}
  secret:
    secretName: {{ .from.secret | quote }}
    {{- with .mode }}
    defaultMode: {{ int . }}
    {{- end }}
    items:
      - key: {{ .file | quote }}
        path: {{ .file | quote }}
{{- else }}
- name: {{ .name }}
  {{- toYaml .from.volume | nindent 2 }}
{{- end }}
{{- end }}
{{- end -}}
