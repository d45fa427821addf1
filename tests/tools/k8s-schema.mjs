// Checks Kubernetes objects (a JSON array, as kubectl kustomize renders them
// and tests/integration/deploy_k8s_schema.sh converts them) against the API's
// schema, offline, with two independent generated descriptions of it:
//   - @kubernetes/client-node's models (from the OpenAPI spec): every field
//     of a built-in object must exist in its type, recursively, with a value
//     of that field's JSON type; an unknown or misspelt field is an error,
//     which is what the API server's strict field validation would refuse;
//   - kubernetes-models' validators (also from the OpenAPI spec, and the
//     Prometheus Operator's CRDs): required fields, formats and types, for
//     built-ins and for ServiceMonitor/PrometheusRule.
// Usage: node k8s-schema.mjs CLIENT_NODE_MODELS_DIR NODE_MODULES_DIR OBJECTS.json
// Prints one line per error; exit 1 if any, else 0 and a summary line.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modelsDir, nodeModules, input] = process.argv.slice(2);
const objects = JSON.parse(fs.readFileSync(input, "utf8"));
const errors = [];
const models = new Map();

async function model(name) {
	if (models.has(name)) return models.get(name);
	const file = path.join(modelsDir, `${name}.js`);
	let attrs = null;
	if (fs.existsSync(file)) {
		const mod = await import(pathToFileURL(file).href);
		const cls = mod[name];
		attrs = cls && cls.attributeTypeMap ? new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type])) : null;
	}
	models.set(name, attrs);
	return attrs;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

async function walk(value, type, where) {
	let m;
	if (type === "any") return;
	if ((m = /^Array<(.+)>$/.exec(type))) {
		if (!Array.isArray(value)) return errors.push(`${where}: must be a list (${type})`);
		for (let i = 0; i < value.length; i++) await walk(value[i], m[1], `${where}[${i}]`);
		return;
	}
	if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
		if (!isObject(value)) return errors.push(`${where}: must be a map (${type})`);
		for (const [k, v] of Object.entries(value)) await walk(v, m[1], `${where}.${k}`);
		return;
	}
	switch (type) {
	case "string": case "Date":
		if (typeof value !== "string") errors.push(`${where}: must be a string, is ${JSON.stringify(value)}`);
		return;
	case "number":
		if (typeof value !== "number") errors.push(`${where}: must be a number, is ${JSON.stringify(value)}`);
		return;
	case "boolean":
		if (typeof value !== "boolean") errors.push(`${where}: must be true or false, is ${JSON.stringify(value)}`);
		return;
	case "IntOrString":
		if (typeof value !== "string" && !Number.isInteger(value)) errors.push(`${where}: must be an integer or a string`);
		return;
	}
	const attrs = await model(type);
	if (!attrs) return errors.push(`${where}: no schema for type ${type}`);
	if (!isObject(value)) return errors.push(`${where}: must be an object (${type})`);
	for (const [k, v] of Object.entries(value)) {
		if (!attrs.has(k)) errors.push(`${where}.${k}: no such field in ${type}`);
		else await walk(v, attrs.get(k), `${where}.${k}`);
	}
}

// apiVersion -> where kubernetes-models keeps the kind's class.
function modelsPath(apiVersion, kind) {
	if (apiVersion === "monitoring.coreos.com/v1")
		return path.join(nodeModules, "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1", `${kind}.js`);
	return path.join(nodeModules, "kubernetes-models", apiVersion, `${kind}.js`);
}

let strict = 0, validated = 0;
for (const o of objects) {
	const where = `${o.kind}/${o.metadata && o.metadata.name}`;
	const builtin = /^(v1|apps\/v1|networking\.k8s\.io\/v1)$/.test(o.apiVersion);
	if (builtin) {
		await walk(o, `V1${o.kind}`, where);
		strict++;
	}
	const file = modelsPath(o.apiVersion, o.kind);
	if (!fs.existsSync(file)) {
		errors.push(`${where}: apiVersion ${o.apiVersion} kind ${o.kind} is not in the schema`);
		continue;
	}
	const mod = await import(pathToFileURL(file).href);
	try {
		new mod[o.kind](o).validate();
		validated++;
	} catch (e) {
		errors.push(`${where}: ${e.message}`);
	}
}
for (const e of errors) console.log(`FAIL: ${e}`);
if (errors.length) process.exit(1);
console.log(`ok: ${objects.length} objects; ${strict} checked field by field, ${validated} validated`);
