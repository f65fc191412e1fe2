export { fetchLocation, rememberLocation, locationChangesRoute, type LocationSettings } from "./locations.js";
