// Account pages: send the Signal API calls the server queued for this page (after a
// passkey is removed or the profile changes), so the device's passkey list matches.
import { sendPageSignals } from "./signal.js";

sendPageSignals();
