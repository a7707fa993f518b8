/*
 * client-id-guard: a Mosquitto 2.0 broker plugin that reserves client ids for one login each.
 *
 * Why a plugin: Mosquitto 2.0 has no config option binding a client id to a login, and a client that connects
 * with another's client id takes over its persistent session (and the messages queued for it). The bridge's
 * id (MQTT_CLIENT_ID) must stay the bridge's, even for the publisher, whose password is in every assignment zip.
 *
 *   plugin /path/to/client-id-guard.so
 *   plugin_opt_client_id greengrader-bridge
 *   plugin_opt_username greengrader
 *
 * More reservations: plugin_opt_client_id_2 / plugin_opt_username_2, and so on. A connection whose client id is
 * reserved is refused (CONNACK "not authorised") unless its username is the owner; every other connection is
 * left to password_file, which still checks the password (this plugin only ever refuses, it never admits).
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_RESERVATIONS 16

struct reservation {
	const char *client_id;
	const char *username;
};

static mosquitto_plugin_id_t *plugin_id;
static struct reservation reservations[MAX_RESERVATIONS];
static int reservation_count;

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5) return 5;
	}
	return -1;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)userdata;
	struct mosquitto_evt_basic_auth *auth = event_data;
	const char *client_id = mosquitto_client_id(auth->client);
	const char *username = mosquitto_client_username(auth->client);
	for (int i = 0; i < reservation_count && client_id != NULL; i++) {
		if (strcmp(client_id, reservations[i].client_id) != 0) continue;
		if (username != NULL && strcmp(username, reservations[i].username) == 0) return MOSQ_ERR_PLUGIN_DEFER;
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "client-id-guard: refused client id %s for user %s", client_id,
				     username == NULL ? "(anonymous)" : username);
		return MOSQ_ERR_AUTH;
	}
	return MOSQ_ERR_PLUGIN_DEFER;
}

/* Pairs plugin_opt_client_id[_N] with plugin_opt_username[_N] by their suffix ("" or "_N"). */
static const char *option(struct mosquitto_opt *options, int option_count, const char *key)
{
	for (int i = 0; i < option_count; i++) {
		if (strcmp(options[i].key, key) == 0) return options[i].value;
	}
	return NULL;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options,
			  int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	reservation_count = 0;
	for (int i = 0; i < option_count; i++) {
		const char *suffix;
		if (strncmp(options[i].key, "client_id", 9) != 0) continue;
		suffix = options[i].key + 9;
		char username_key[64];
		snprintf(username_key, sizeof username_key, "username%s", suffix);
		const char *username = option(options, option_count, username_key);
		if (username == NULL || options[i].value[0] == '\0' || username[0] == '\0') {
			mosquitto_log_printf(MOSQ_LOG_ERR, "client-id-guard: plugin_opt_%s needs a non-empty plugin_opt_%s",
					     options[i].key, username_key);
			return MOSQ_ERR_INVAL;
		}
		if (reservation_count == MAX_RESERVATIONS) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "client-id-guard: more than %d reservations", MAX_RESERVATIONS);
			return MOSQ_ERR_INVAL;
		}
		reservations[reservation_count++] = (struct reservation){options[i].value, username};
	}
	if (reservation_count == 0) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "client-id-guard: no plugin_opt_client_id given, nothing to guard");
		return MOSQ_ERR_INVAL;
	}
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
}
