// The Container Apps environment: a workload-profiles environment (serverless GPUs need one), always with the
// CPU Consumption profile, plus one serverless GPU profile when asked for.

param name string
param location string
param tags object = {}
param logAnalyticsName string

@description('The GPU workload profile to add, or none.')
@allowed(['T4', 'A100', 'none'])
param gpuProfile string

@description('Subnet of a virtual network to place the environment in (storageNetworkAccess = private, so the app reaches the storage account\'s private endpoints); empty: the network Container Apps generates. Either cannot be changed once the environment exists.')
param infrastructureSubnetId string = ''

// Serverless (Consumption) GPU profile types of Azure Container Apps.
var gpuProfileTypes = {
  T4: 'Consumption-GPU-NC8as-T4'
  A100: 'Consumption-GPU-NC24-A100'
}
var consumption = { name: 'Consumption', workloadProfileType: 'Consumption' }
var workloadProfiles = gpuProfile == 'none'
  ? [consumption]
  : [consumption, { name: 'gpu', workloadProfileType: gpuProfileTypes[gpuProfile] }]

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
    workloadProfiles: workloadProfiles
    // External: the HTTP API keeps its public address; only the storage traffic moves onto the virtual network.
    vnetConfiguration: empty(infrastructureSubnetId) ? null : { infrastructureSubnetId: infrastructureSubnetId, internal: false }
  }
}

output id string = environment.id
@description('The environment\'s DNS suffix: an app with external ingress is reachable at https://<app name>.<this>.')
output defaultDomain string = environment.properties.defaultDomain
output name string = environment.name
@description('The workload profile the Function app runs on.')
output appWorkloadProfileName string = gpuProfile == 'none' ? 'Consumption' : 'gpu'
