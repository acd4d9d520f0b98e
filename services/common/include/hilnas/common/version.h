#pragma once

namespace hilnas {

// "0.1.0+<git commit>" when built from a checkout, else "0.1.0".
const char* Version();

}  // namespace hilnas
