#pragma once

#include <stdbool.h>

extern const char *const cdn_home_secrets[];
extern const char *const cdn_root_secrets[];
